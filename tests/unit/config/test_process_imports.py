"""What each process loads: gunicorn's master reads its config without Django's settings or Celery,
and every Django process sends tasks through the project's Celery app."""

import json
import subprocess
import sys

from tests.support import child
from tests.support.external import ROOT

# Loaded the way gunicorn's master loads it (scripts/web: --config config/gunicorn.py).
LOAD_GUNICORN_CONFIG = """
import json, sys
from gunicorn.app.base import Application
config = Application.get_config_from_filename(None, "config/gunicorn.py")
print(json.dumps({"workers": config["workers"], "timeout": config["timeout"], "modules": sorted(sys.modules)}))
"""
# What gunicorn's master must not load: the project's settings, Django's lazy settings, Celery, Sentry.
NOT_IN_THE_MASTER = ("config.settings", "django.conf", "celery", "kombu", "sentry_sdk")


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_gunicorns_config_loads_neither_django_settings_nor_celery():
    # With a DSN, loading the settings would also start Sentry and its Celery integration.
    env = child.app_env(
        WEB_CONCURRENCY="3", WEB_TIMEOUT="45", LOG_JSON="true", SENTRY_DSN="https://public@o0.ingest.sentry.io/1"
    )
    result = _run(LOAD_GUNICORN_CONFIG, env)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert (loaded["workers"], loaded["timeout"]) == (3, 45)  # it did read the environment
    unwanted = [name for name in loaded["modules"] if name.startswith(NOT_IN_THE_MASTER)]
    assert not unwanted, f"gunicorn's master loaded {unwanted[:10]}"


def test_gunicorns_config_refuses_a_bad_value_naming_the_variable():
    result = _run(LOAD_GUNICORN_CONFIG, child.app_env(WEB_CONCURRENCY="0"))
    assert result.returncode != 0
    message = child.last_line(result.stderr)
    assert message == "django.core.exceptions.ImproperlyConfigured: WEB_CONCURRENCY must be at least 1, not 0.", message


def test_tasks_are_bound_to_the_projects_celery_app_in_every_django_process():
    """config/__init__.py loads nothing; Django loads the Celery app (config/apps.py), so a task
    sent from a web worker goes to the configured broker, not to Celery's default app."""
    code = (
        "import json, django; django.setup(); from blog.tasks import notify_subscribers; "
        "from celery.app.utils import find_app; "
        "print(json.dumps([notify_subscribers.app.main, notify_subscribers.app.conf.broker_url, "
        "find_app('config') is notify_subscribers.app]))"
    )
    env = child.app_env(
        REDIS_URL="redis://127.0.0.1:6379/9", CELERY_TASK_ALWAYS_EAGER="false", DJANGO_SETTINGS_MODULE="config.settings"
    )
    result = _run(code, env)
    assert result.returncode == 0, result.stderr[-3000:]
    main, broker, found_by_celery = json.loads(result.stdout.strip().splitlines()[-1])
    assert (main, broker) == ("config", "redis://127.0.0.1:6379/9")
    assert found_by_celery, "`celery --app config` (scripts/worker, scripts/beat) finds another app"


def test_nothing_but_config_env_reads_the_environment_for_configuration():
    """Every setting is read, and checked, in one place: no module of the app reads os.environ or
    os.getenv itself. Entry points only default DJANGO_SETTINGS_MODULE."""
    allowed = 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")'
    readers = []
    for package in ("config", "blog"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                if ("os.environ" in line or "getenv" in line) and line.strip() != allowed:
                    readers.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not readers, "\n".join(readers)
