"""consolemail:// (the default EMAIL_URL) writes each email to the log, one record each."""

import json
import logging
import logging.config

from django.core import mail
from django.test import override_settings

from config.settings import LOGGING
from tests.support import child


def test_consolemail_the_default_logs_emails_and_smtp_stays_smtp():
    assert child.settings_of(child.app_env(EMAIL_URL=None), "EMAIL_BACKEND") == {
        "EMAIL_BACKEND": "config.mail.LogEmailBackend"
    }
    smtp = child.settings_of(child.app_env(EMAIL_URL="smtp://mail.example.test:25"), "EMAIL_BACKEND")
    assert smtp == {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}


@override_settings(EMAIL_BACKEND="config.mail.LogEmailBackend")
def test_each_email_is_one_json_log_line(caplog):
    caplog.set_level(logging.INFO, logger="config.mail")
    sent = mail.send_mail("New post by ada: Notes", "ada published “Notes”.\n\nIt weaves.", None, ["b@example.test"])
    assert sent == 1
    [record] = caplog.records
    assert record.name == "config.mail"
    formatter = logging.config.dictConfigClass(LOGGING).configure_formatter(LOGGING["formatters"]["json"])
    line = formatter.format(record)
    assert "\n" not in line
    text = json.loads(line)["message"]
    assert "To: b@example.test" in text and "Subject: New post by ada: Notes" in text
    assert "It weaves." in text
