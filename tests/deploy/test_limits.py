"""Sizes and time limits agree across files: config/limits.py is the source, and nginx.conf, the
schema's 413 text and every platform's stop grace follow it.

- A body nginx lets through is one the app accepts, and both refuse larger ones with the same words.
- nginx waits for gunicorn longer than gunicorn lets a request run, so gunicorn's answer arrives.
- A platform stopping a worker waits longer than any task may run: Celery's warm shutdown lets
  running tasks finish, and a task killed midway is redelivered only after the broker's
  visibility timeout. A stopping web process gets gunicorn's graceful timeout.
"""

import json
import re

import pytest
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.test import RequestFactory

from api.errors import bad_request
from config import gunicorn as gunicorn_config
from config import limits
from config.celery import app as celery_app
from tests.support import manifests

# What each platform accepts as a stop grace, from its documentation.
# Render: maxShutdownDelaySeconds 1 to 300 (the Blueprint schema, https://render.com/schema/render.yaml.json).
RENDER_MAX_SHUTDOWN_DELAY = 300
# Fly.io: kill_timeout up to 5 minutes on shared-CPU Machines, 24 hours on dedicated ones
# (https://community.fly.io/t/new-feature-graceful-vm-shutdown-options/504).
FLY_MAX_KILL_TIMEOUT = {"shared": 300, "dedicated": 24 * 60 * 60}
# Railway documents no maximum for drainingSeconds (RAILWAY_DEPLOYMENT_DRAINING_SECONDS); Compose none.


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit} bytes"


# --- The request body ------------------------------------------------------------------------
def test_the_app_refuses_bodies_over_the_limit():
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == limits.REQUEST_BODY_MAX_BYTES


def test_nginx_refuses_exactly_the_bodies_the_app_refuses():
    sizes = manifests.nginx_directives("client_max_body_size")
    assert sizes, "nginx.conf sets no client_max_body_size (nginx's default is 1m whatever the app takes)"
    for size in sizes:
        assert manifests.nginx_size_bytes(size) == limits.REQUEST_BODY_MAX_BYTES, (
            f"nginx.conf client_max_body_size {size} is not config/limits.py's "
            f"REQUEST_BODY_MAX_BYTES ({limits.REQUEST_BODY_MAX_BYTES} bytes)"
        )


def test_nginx_and_the_app_answer_an_oversized_body_alike():
    nginx = json.loads(manifests.nginx_named_location_body("too_large"))
    app = bad_request(RequestFactory().post("/api/posts/"), RequestDataTooBig())
    assert app.status_code == 413
    assert nginx == json.loads(app.content), "nginx.conf's @too_large body and api/errors.py's 413 differ"
    assert _size(limits.REQUEST_BODY_MAX_BYTES) in nginx["errors"][0]["detail"]


def test_the_schema_states_the_limit():
    stated = set(re.findall(r"The body is over (\d+ (?:MiB|KiB|bytes))", manifests.SCHEMA_SNAPSHOT.read_text()))
    assert stated, "schema.snapshot.yaml no longer states the body limit of its 413 answers"
    assert stated == {_size(limits.REQUEST_BODY_MAX_BYTES)}, f"the schema's 413 says {sorted(stated)}"


# --- Requests --------------------------------------------------------------------------------
def test_nginx_waits_for_gunicorn_longer_than_gunicorn_lets_a_request_run():
    """Equal would be a race: nginx's 504 instead of the app's answer, or a 502 as gunicorn kills the worker."""
    timeouts = manifests.nginx_directives("proxy_read_timeout")
    assert timeouts, "nginx.conf sets no proxy_read_timeout (nginx's default is 60s)"
    for timeout in timeouts:
        assert manifests.duration_seconds(timeout) > limits.WEB_TIMEOUT_SECONDS, (
            f"nginx.conf proxy_read_timeout {timeout} is not above gunicorn's timeout "
            f"(config/limits.py WEB_TIMEOUT_SECONDS = {limits.WEB_TIMEOUT_SECONDS})"
        )


def test_gunicorn_uses_the_limits():
    assert gunicorn_config.graceful_timeout == limits.WEB_GRACEFUL_TIMEOUT_SECONDS
    assert settings.WEB_TIMEOUT == limits.WEB_TIMEOUT_SECONDS  # WEB_TIMEOUT is unset in the test run


# --- Stopping ---------------------------------------------------------------------------------
def _tasks() -> dict:
    """Every task a worker runs: the worker imports the task modules of every app at start-up."""
    celery_app.loader.import_default_modules()
    return celery_app.tasks


def _longest_hard_limit() -> tuple[str, float]:
    """The project's task that may run longest, as the running Celery app has it."""
    limits_by_task = {
        name: task.time_limit or celery_app.conf.task_time_limit
        for name, task in _tasks().items()
        if not name.startswith("celery.")
    }
    assert limits_by_task, "the Celery app has none of the project's tasks"
    assert all(limits_by_task.values()), f"a task without a hard time limit: {limits_by_task}"
    name = max(limits_by_task, key=limits_by_task.get)
    return name, limits_by_task[name]


def test_every_task_is_bounded_as_config_limits_says():
    notify = _tasks()["blog.tasks.notify_subscribers"]
    assert (notify.soft_time_limit, notify.time_limit) == (
        limits.NOTIFY_SOFT_TIME_LIMIT_SECONDS,
        limits.NOTIFY_TIME_LIMIT_SECONDS,
    )
    assert (celery_app.conf.task_soft_time_limit, celery_app.conf.task_time_limit) == (
        limits.TASK_SOFT_TIME_LIMIT_SECONDS,
        limits.TASK_TIME_LIMIT_SECONDS,
    )
    for name, task in _tasks().items():
        soft = task.soft_time_limit or celery_app.conf.task_soft_time_limit
        hard = task.time_limit or celery_app.conf.task_time_limit
        assert soft < hard, f"{name}: the soft limit ({soft}) must come before the hard one ({hard})"
    name, longest = _longest_hard_limit()
    assert longest < limits.WORKER_SHUTDOWN_GRACE_SECONDS, (
        f"config/limits.py WORKER_SHUTDOWN_GRACE_SECONDS ({limits.WORKER_SHUTDOWN_GRACE_SECONDS}) "
        f"is not above {name}'s hard time limit ({longest})"
    )


def _compose_service(role: str) -> tuple[str, dict]:
    for name, spec in manifests.compose_services().items():
        command = spec.get("command")
        command = " ".join(command) if isinstance(command, list) else command or ""
        if manifests.calls_entry(command, role):
            return f"docker-compose.yml service {name} stop_grace_period", spec
    pytest.fail(f"docker-compose.yml has no service running scripts/{role}")


def stop_graces(role: str) -> list[tuple[str, float]]:
    """(where, seconds) of each platform's wait between SIGTERM and SIGKILL for the role's process."""
    graces = []
    where, spec = _compose_service(role)
    graces.append((where, manifests.duration_seconds(spec.get("stop_grace_period", "10s"))))  # Compose's default
    fly = manifests.fly_config()
    graces.append(("fly.toml kill_timeout", manifests.duration_seconds(fly.get("kill_timeout", 5))))  # Fly's default
    render = manifests.render_services()[role]
    graces.append(
        (f"render.yaml service {render['name']} maxShutdownDelaySeconds", render.get("maxShutdownDelaySeconds", 30))
    )
    deploy = manifests.railway_deploys()[role]
    file = "railway.json" if role == "web" else f"railway.{role}.json"
    graces.append((f"{file} deploy.drainingSeconds", manifests.duration_seconds(deploy.get("drainingSeconds", 0))))
    return graces


def test_every_platform_lets_a_stopping_worker_finish_its_tasks():
    name, longest = _longest_hard_limit()
    problems = [
        f"{where} is {seconds:g} s: expected config/limits.py WORKER_SHUTDOWN_GRACE_SECONDS "
        f"({limits.WORKER_SHUTDOWN_GRACE_SECONDS} s, above {name}'s hard time limit of {longest} s)"
        for where, seconds in stop_graces("worker")
        if seconds != limits.WORKER_SHUTDOWN_GRACE_SECONDS or seconds <= longest
    ]
    assert not problems, "\n".join(problems)


def test_every_platform_lets_a_stopping_web_process_finish_its_requests():
    problems = [
        f"{where} is {seconds:g} s, below gunicorn's graceful_timeout ({limits.WEB_GRACEFUL_TIMEOUT_SECONDS} s)"
        for where, seconds in stop_graces("web")
        if seconds < limits.WEB_GRACEFUL_TIMEOUT_SECONDS
    ]
    assert not problems, "\n".join(problems)


def test_the_stop_graces_are_within_what_the_platforms_allow():
    fly = manifests.fly_config()
    cpu = "dedicated" if any("performance" in vm.get("size", "") for vm in fly.get("vm", [])) else "shared"
    kill_timeout = manifests.duration_seconds(fly.get("kill_timeout", 5))
    assert 1 <= kill_timeout <= FLY_MAX_KILL_TIMEOUT[cpu], f"fly.toml kill_timeout {kill_timeout:g} on {cpu}-CPU"
    for name, service in manifests.render_services().items():
        delay = service.get("maxShutdownDelaySeconds", 30)
        assert 1 <= delay <= RENDER_MAX_SHUTDOWN_DELAY, f"render.yaml {name} maxShutdownDelaySeconds {delay}"


def test_a_short_grace_is_reported_naming_the_file_and_the_limit(tmp_path, monkeypatch):
    """The checker itself: a worker grace equal to the hard limit (a task killed midway) is caught."""
    drifted = tmp_path / "railway.worker.json"
    deploy = {**manifests.railway_deploys()["worker"], "drainingSeconds": str(limits.TASK_TIME_LIMIT_SECONDS)}
    drifted.write_text(json.dumps({"deploy": deploy}))
    files = [path if path.name != "railway.worker.json" else drifted for path in manifests.railway_files()]
    monkeypatch.setattr(manifests, "railway_files", lambda: files)
    with pytest.raises(AssertionError) as failure:
        test_every_platform_lets_a_stopping_worker_finish_its_tasks()
    message = str(failure.value)
    assert f"railway.worker.json deploy.drainingSeconds is {limits.TASK_TIME_LIMIT_SECONDS} s" in message
    assert "WORKER_SHUTDOWN_GRACE_SECONDS" in message
    assert "fly.toml" not in message and "render.yaml" not in message
