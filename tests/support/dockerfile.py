"""Reads the Dockerfile into stages and .dockerignore into Docker's own matching rules, for
tests/deploy/test_dockerfile.py and tests/deploy/test_compose.py."""

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tests.support import manifests
from tests.support.external import ROOT

DOCKERIGNORE = ROOT / ".dockerignore"


@dataclass
class Stage:
    image: str  # what FROM names
    name: str | None  # the AS alias
    instructions: list[tuple[str, str]] = field(default_factory=list)  # (KEYWORD, arguments)

    def all(self, keyword: str) -> list[str]:
        return [arguments for word, arguments in self.instructions if word == keyword]

    def env(self) -> dict[str, str]:
        """The stage's ENV, in the `ENV KEY=VALUE KEY2="VALUE 2"` form."""
        values = {}
        for arguments in self.all("ENV"):
            for word in shlex.split(arguments):
                key, _, value = word.partition("=")
                values[key] = value
        return values

    def workdir(self) -> PurePosixPath:
        return PurePosixPath(self.all("WORKDIR")[-1])


def stages() -> list[Stage]:
    parsed = []
    for instruction in manifests._dockerfile_instructions():
        keyword, _, arguments = instruction.partition(" ")
        keyword, arguments = keyword.upper(), arguments.strip()
        if keyword == "FROM":
            words = [word for word in arguments.split() if not word.startswith("--")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            parsed.append(Stage(words[0], name))
        else:
            parsed[-1].instructions.append((keyword, arguments))
    return parsed


def exec_form(arguments: str) -> list[str] | None:
    """The argv of an exec-form CMD/HEALTHCHECK CMD (a JSON array), None for the shell form."""
    return json.loads(arguments) if arguments.startswith("[") else None


def healthcheck_argv(stage: Stage) -> list[str] | None:
    for arguments in stage.all("HEALTHCHECK"):
        command = re.sub(r"^(--\S+\s+)*CMD\s+", "", arguments)
        return exec_form(command) or ["/bin/sh", "-c", command]
    return None


# --- .dockerignore, matched as Docker matches it (moby/patternmatcher) ---------------------------
def ignore_patterns() -> list[tuple[bool, re.Pattern]]:
    """(is_exception, regex) per line: `!` re-includes, the last matching line wins."""
    patterns = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        pattern = str(PurePosixPath(line.removeprefix("!").lstrip("/")))
        patterns.append((exception, re.compile(_glob_to_regex(pattern))))
    return patterns


def _glob_to_regex(pattern: str) -> str:
    regex, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            regex, index = regex + pattern[index : end + 1], end + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return f"^{regex}$"


def is_ignored(path: str) -> bool:
    """True when Docker leaves the path out of the build context (it, or a folder above it, matches)."""
    parts = PurePosixPath(path).parts
    candidates = ["/".join(parts[: length + 1]) for length in range(len(parts))]
    ignored = False
    for exception, regex in ignore_patterns():
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not exception
    return ignored
