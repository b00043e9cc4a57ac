"""The release phase (scripts/release): `migrate`, with Django's progress report as log lines.

`manage.py migrate` prints its report ("Operations to perform", "Applying ... OK", "No
migrations to apply.") as plain text on stdout; here each of its lines is a log record of the
`config.release` logger instead, so the release's output is JSON lines like every other
process's (settings.LOGGING). A failure still raises, and the process exits non-zero.
"""

import io
import logging
import os

logger = logging.getLogger("config.release")


class LogLines(io.TextIOBase):
    """A text stream that logs each complete line written to it (at INFO), blank lines dropped.

    migrate writes "  Applying x..." and " OK" in two writes: a line is logged once it ends.
    """

    def __init__(self):
        super().__init__()
        self.pending = ""

    def writable(self):
        return True

    def write(self, text):
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            if line.strip():
                logger.info(line.strip())
        return len(text)

    def flush(self):
        """migrate flushes after "Applying x...": the line is logged whole, once it ends."""

    def finish(self):
        if self.pending.strip():
            logger.info(self.pending.strip())
        self.pending = ""


def release() -> None:
    from django.core.management import call_command

    report = LogLines()
    try:
        call_command("migrate", interactive=False, stdout=report)
    finally:
        report.finish()


def main() -> None:  # pragma: no cover - the process entry, run by scripts/release
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    release()


if __name__ == "__main__":  # pragma: no cover
    main()
