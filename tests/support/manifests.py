"""Reads every deployment manifest into one table: which role runs what, which health paths
are probed, which environment variables are set. Shared by the deploy tests."""

import ast
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.support.external import ROOT

ROLES = ("web", "worker", "beat", "release")
PROCFILE = ROOT / "Procfile"
FLY = ROOT / "fly.toml"
RENDER = ROOT / "render.yaml"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
# The settings package and config/env.py: the one reader of the environment, and what it reads.
SETTINGS_FILES = [ROOT / "config" / "env.py", *sorted((ROOT / "config" / "settings").glob("*.py"))]
# Railway configures one service per file: railway.json is web, railway.<role>.json the others.
RAILWAY_ROLE = re.compile(r"^railway(?:\.(?P<role>[a-z]+))?\.json$")
URL_PATH = re.compile(r"https?://[^/\s\"']+(?P<path>/[^\s\"']*)")


@dataclass
class Process:
    source: str  # file, and where in it
    role: str  # web, worker, beat or release
    command: str


@dataclass
class Manifest:
    name: str
    processes: list[Process] = field(default_factory=list)
    health_paths: list[tuple[str, str]] = field(default_factory=list)  # (where, path)
    env: list[tuple[str, str]] = field(default_factory=list)  # (where, variable)


def railway_files() -> list[Path]:
    return sorted(path for path in ROOT.glob("railway*.json") if RAILWAY_ROLE.match(path.name))


def procfile() -> Manifest:
    manifest = Manifest("Procfile")
    for number, line in enumerate(PROCFILE.read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, command = line.partition(":")
        manifest.processes.append(Process(f"Procfile line {number} ({name.strip()})", name.strip(), command.strip()))
    return manifest


def fly() -> Manifest:
    config = tomllib.loads(FLY.read_text())
    manifest = Manifest("fly.toml")
    for name, command in config.get("processes", {}).items():
        manifest.processes.append(Process(f"fly.toml [processes] {name}", name, command))
    if "release_command" in config.get("deploy", {}):
        manifest.processes.append(
            Process("fly.toml [deploy] release_command", "release", config["deploy"]["release_command"])
        )
    for index, check in enumerate(config.get("http_service", {}).get("checks", [])):
        manifest.health_paths.append((f"fly.toml [[http_service.checks]] #{index + 1}", check.get("path", "/")))
    for service in config.get("services", []):
        for check in service.get("http_checks", []):
            manifest.health_paths.append(("fly.toml [[services.http_checks]]", check.get("path", "/")))
    for name, check in config.get("checks", {}).items():
        if check.get("type") == "http":
            manifest.health_paths.append((f"fly.toml [checks.{name}]", check.get("path", "/")))
    manifest.env = [("fly.toml [env]", key) for key in config.get("env", {})]
    return manifest


def render() -> Manifest:
    blueprint = yaml.safe_load(RENDER.read_text())
    manifest = Manifest("render.yaml")
    for service in blueprint.get("services", []):
        if service.get("type") not in ("web", "worker", "pserv"):
            continue
        name = service["name"]
        where = f"render.yaml service {name}"
        # A Render service name ends with its role: blog-web, blog-worker, blog-beat.
        role = "web" if service["type"] == "web" else name.rsplit("-", 1)[-1]
        command = service.get("dockerCommand") or service.get("startCommand") or "(the image's CMD)"
        manifest.processes.append(Process(f"{where} dockerCommand", role, command))
        if "preDeployCommand" in service:
            manifest.processes.append(Process(f"{where} preDeployCommand", "release", service["preDeployCommand"]))
        if "healthCheckPath" in service:
            manifest.health_paths.append((f"{where} healthCheckPath", service["healthCheckPath"]))
        manifest.env += [(f"{where} envVars", var["key"]) for var in service.get("envVars", []) if "key" in var]
    for group in blueprint.get("envVarGroups", []):
        manifest.env += [(f"render.yaml envVarGroup {group['name']}", var["key"]) for var in group["envVars"]]
    return manifest


def railway() -> Manifest:
    manifest = Manifest("railway*.json")
    for path in railway_files():
        deploy = json.loads(path.read_text()).get("deploy", {})
        role = RAILWAY_ROLE.match(path.name)["role"] or "web"
        manifest.processes.append(
            Process(f"{path.name} deploy.startCommand", role, deploy.get("startCommand") or "(the image's CMD)")
        )
        if "preDeployCommand" in deploy:
            pre = deploy["preDeployCommand"]
            pre = " && ".join(pre) if isinstance(pre, list) else pre
            manifest.processes.append(Process(f"{path.name} deploy.preDeployCommand", "release", pre))
        if deploy.get("healthcheckPath"):
            manifest.health_paths.append((f"{path.name} deploy.healthcheckPath", deploy["healthcheckPath"]))
    return manifest


def dockerfile_cmd() -> str | None:
    """The Dockerfile's final CMD, as one command line (exec or shell form)."""
    if not DOCKERFILE.exists():
        return None
    command = None
    for instruction in _dockerfile_instructions():
        keyword, _, rest = instruction.partition(" ")
        if keyword.upper() == "CMD":
            rest = rest.strip()
            command = shlex.join(json.loads(rest)) if rest.startswith("[") else rest
    return command


def dockerfile_health_paths() -> list[tuple[str, str]]:
    if not DOCKERFILE.exists():
        return []
    paths = []
    for instruction in _dockerfile_instructions():
        if instruction.split(" ", 1)[0].upper() == "HEALTHCHECK":
            paths += [("Dockerfile HEALTHCHECK", match["path"]) for match in URL_PATH.finditer(instruction)]
    return paths


def _dockerfile_instructions() -> list[str]:
    """Instructions with their continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            joined.append(current.strip())
        current = ""
    return joined


# The one service of docker-compose.yml that runs the project's image without being a process
# role, held to this exact command: the copy of the static files collectstatic wrote into the
# image at build time to the volume nginx serves them from.
COMPOSE_STATIC_COPY = ("static", "cp -R --preserve=timestamps /app/staticfiles/. /srv/static/")


def compose() -> Manifest:
    """Services of docker-compose.yml that run the project's image (the others are Postgres, Redis, nginx)."""
    document = yaml.safe_load(COMPOSE.read_text())
    services = document.get("services", {})
    built_images = {spec.get("image") for spec in services.values() if "build" in spec and spec.get("image")}
    manifest = Manifest("docker-compose.yml")
    for name, spec in services.items():
        if "build" not in spec and spec.get("image") not in built_images:
            continue
        if (name, _compose_command(spec)) == COMPOSE_STATIC_COPY:
            continue
        where = f"docker-compose.yml service {name}"
        command = _compose_command(spec)
        if command is None:
            command = dockerfile_cmd() or "(the image's CMD)"
            where += " (no command: the Dockerfile's CMD)"
        manifest.processes.append(Process(where, _compose_role(name), command))
        healthcheck = spec.get("healthcheck") or {}
        test = healthcheck.get("test")
        test = " ".join(test) if isinstance(test, list) else (test or "")
        manifest.health_paths += [(f"{where} healthcheck", match["path"]) for match in URL_PATH.finditer(test)]
        environment = spec.get("environment") or {}
        keys = environment if isinstance(environment, dict) else [item.split("=", 1)[0] for item in environment]
        manifest.env += [(f"{where} environment", key) for key in keys]
    return manifest


def _compose_command(spec: dict) -> str | None:
    command = spec.get("command")
    return shlex.join(command) if isinstance(command, list) else command


def _compose_role(name: str) -> str:
    for role, words in {"release": ("release", "migrate"), "beat": ("beat",), "worker": ("worker",)}.items():
        if any(word in name for word in words):
            return role
    return "web" if any(word in name for word in ("web", "app", "api")) else name


def entry_command(role: str) -> str:
    return f"scripts/{role}"


def calls_entry(command: str, role: str) -> bool:
    """True when the command runs exactly the role's entry: `scripts/web`, `./scripts/web` or `/app/scripts/web`."""
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    return len(words) == 1 and (
        words[0].removeprefix("./") == entry_command(role) or words[0].endswith(f"/{entry_command(role)}")
    )


def settings_source() -> str:
    return "\n".join(path.read_text() for path in SETTINGS_FILES)


def settings_variables() -> set[str]:
    """Every NAME in env("NAME"), env.str("NAME"), env.list("NAME")... in config/settings/ and config/env.py."""
    names = set()
    for node in (node for path in SETTINGS_FILES for node in ast.walk(ast.parse(path.read_text()))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        function = node.func
        is_env = (isinstance(function, ast.Name) and function.id == "env") or (
            isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name) and function.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


# Variables the platforms set themselves; a manifest may pass them on without the settings reading them.
PLATFORM_VARIABLES = {
    "PORT",
    "FLY_APP_NAME",
    "FLY_IMAGE_REF",
    "PRIMARY_REGION",
    "RENDER_EXTERNAL_HOSTNAME",
    "RENDER_GIT_COMMIT",
    "RAILWAY_PUBLIC_DOMAIN",
    "RAILWAY_GIT_COMMIT_SHA",
}
# Read by Python, Django's and Celery's loaders or gunicorn, before the settings are read.
RUNTIME_VARIABLES = {"DJANGO_SETTINGS_MODULE", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "GUNICORN_CMD_ARGS"}


# --- Values other files must agree with (tests/deploy/test_limits.py) ------------------------
NGINX = ROOT / "nginx.conf"
SCHEMA_SNAPSHOT = ROOT / "schema.snapshot.yaml"
_DURATION = re.compile(r"(?P<number>\d+)(?P<unit>ms|h|m|s)?")
_DURATION_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, None: 1}
_NGINX_SIZE = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def duration_seconds(value: str | int) -> float:
    """Seconds in a duration as nginx, Compose or a platform writes it: 35, "35", "35s", "1m30s"."""
    text = str(value).strip().lower()
    parts = list(_DURATION.finditer(text))
    if not text or "".join(part[0] for part in parts) != text:
        raise ValueError(f"{value!r} is not a duration")
    return sum(int(part["number"]) * _DURATION_SECONDS[part["unit"]] for part in parts)


def nginx_size_bytes(value: str) -> int:
    """Bytes in an nginx size: 1048576, 1024k, 1m."""
    match = re.fullmatch(r"(\d+)([kmg]?)", value.strip().lower())
    if not match:
        raise ValueError(f"{value!r} is not an nginx size")
    return int(match[1]) * _NGINX_SIZE[match[2]]


def nginx_directives(name: str) -> list[str]:
    """The value of every `name value;` in nginx.conf, comments left out."""
    text = "\n".join(line.split("#", 1)[0] for line in NGINX.read_text().splitlines())
    return [match[1].strip() for match in re.finditer(rf"(?m)^\s*{re.escape(name)}\s+([^;]+);", text)]


def nginx_named_location_body(name: str) -> str:
    """The body of `return CODE '...'` in nginx.conf's `location @name`."""
    # The location's body may hold one level of braces (`types { }`).
    block = r"(?:[^{}]|\{[^{}]*\})*?"
    match = re.search(rf"location @{re.escape(name)} \{{{block}return \d+ '(?P<body>[^']*)'", NGINX.read_text())
    if not match:
        raise ValueError(f"nginx.conf has no `location @{name}` returning a body")
    return match["body"].replace("\\n", "\n")


def render_services() -> dict[str, dict]:
    """render.yaml's web, worker and beat services by role (the names end with it: blog-worker)."""
    services = yaml.safe_load(RENDER.read_text()).get("services", [])
    return {
        ("web" if service["type"] == "web" else service["name"].rsplit("-", 1)[-1]): service
        for service in services
        if service.get("type") in ("web", "worker", "pserv")
    }


def railway_deploys() -> dict[str, dict]:
    """Each railway*.json's deploy section by role: railway.json is web, railway.<role>.json the others."""
    return {
        RAILWAY_ROLE.match(path.name)["role"] or "web": json.loads(path.read_text()).get("deploy", {})
        for path in railway_files()
    }


def compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text()).get("services", {})


_SUBSTITUTION = re.compile(r"\$\{(?P<name>\w+)(?::?-(?P<default>[^}]*))?\}")


def compose_value(service: dict, name: str) -> str | None:
    """A variable of a compose service's `environment`, its ${NAME:-default} substitution taken
    at its default (what the service gets when .env does not set it)."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment if "=" in item)
    value = environment.get(name)
    if value is None:
        return None
    return _SUBSTITUTION.sub(lambda match: match["default"] or "", str(value))


def fly_config() -> dict:
    return tomllib.loads(FLY.read_text())
