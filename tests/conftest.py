"""Fixtures shared by every tier. The test process's environment is set earlier, in
tests/support/environment.py; helpers live in tests/support/."""

import fcntl
import uuid
from datetime import timedelta

import environ
import pytest
from celery import signals
from django.utils import timezone
from rest_framework.test import APIClient

from config.celery import app as celery_app
from tests.support.external import redis_url
from tests.support.factories import PostFactory, SubscriptionFactory, UserFactory, verified
from tests.support.mailserver import SMTPServer
from tests.support.tasks import Audience, Broker, TaskRuns, use_broker


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Factories hash a password for every user and many tests sign in: the production hasher's
    deliberate slowness is not under test, so in-process tests use a fast one."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache():
    """Throttle counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def auth_client(user):
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def other_client(other_user):
    client = APIClient()
    client.force_authenticate(user=other_user)
    return client


@pytest.fixture
def post(user):
    return PostFactory(author=user)


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory, worker_id):
    """collectstatic's output (hashed, gzip and brotli copies), made as an image build makes it:
    the database unreachable, a throwaway key, no Redis. Processes started by tests serve it
    (STATIC_ROOT); nothing writes to it.

    It compresses every file twice (a minute of CPU): done once per run, shared by the xdist workers.
    """
    from tests.support import child

    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    root = shared / "collectstatic"
    with (shared / "collectstatic.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "staticfiles.json").is_file():
            env = child.app_env(STATIC_ROOT=str(root), REDIS_URL=None)
            result = child.manage("collectstatic", "--noinput", env=env, timeout=600)
            assert result.returncode == 0, result.stderr[-3000:]
            assert child.DB_PASSWORD not in result.stdout + result.stderr
    return root


# --- Background work: an author's audience, Celery's task runs, a real SMTP server on loopback ---
@pytest.fixture
def audience(db):
    author = UserFactory()
    alice, bob = verified(UserFactory()), verified(UserFactory())
    no_email = UserFactory(email="")
    outsider = UserFactory()
    followed = timezone.now() - timedelta(days=1)  # before any post a test publishes or back-dates
    for subscriber in (alice, bob, no_email):
        SubscriptionFactory(subscriber=subscriber, author=author, created_at=followed)
    SubscriptionFactory(subscriber=outsider)  # follows another author
    return Audience(author=author, alice=alice, bob=bob, no_email=no_email, outsider=outsider)


@pytest.fixture
def task_runs():
    runs = TaskRuns()
    signals.task_postrun.connect(runs._on_postrun, weak=False)
    signals.task_retry.connect(runs._on_retry, weak=False)
    yield runs
    signals.task_postrun.disconnect(runs._on_postrun)
    signals.task_retry.disconnect(runs._on_retry)


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def email_url(settings):
    """Configure email from an EMAIL_URL, exactly as config/settings.py does."""

    def configure(url: str) -> None:
        for name, value in environ.Env.email_url_config(url).items():
            setattr(settings, name, value)

    return configure


@pytest.fixture
def tasks_run_in_process():
    """Whatever the caller's environment says, the tests that ask run tasks eagerly, as the embedded mode does."""
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.fixture
def broker():
    """The Redis at REDIS_URL as the broker, tasks no longer run in-process, and a queue for this test only."""
    import redis

    url = redis_url()
    queue = f"blog-tests-{uuid.uuid4().hex}"
    conf = celery_app.conf
    saved = {name: conf[name] for name in ("task_always_eager", "task_default_queue", "worker_enable_remote_control")}
    saved_url = conf.broker_url
    # No remote control: its broadcast queues would outlive the test; nothing here uses it.
    conf.update(task_always_eager=False, task_default_queue=queue, worker_enable_remote_control=False)
    use_broker(url)
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    # tests/system/test_procfile.py claims (and then flushes) a Redis database only if it is empty.
    client.set(f"{queue}.in-use", 1, ex=600)
    published: list[str] = []

    def record(headers=None, **kwargs):
        published.append(headers["id"])

    signals.after_task_publish.connect(record, weak=False)
    try:
        yield Broker(url=url, queue=queue)
    finally:
        signals.after_task_publish.disconnect(record)
        conf.update(saved)
        use_broker(saved_url)
        keys = [*client.scan_iter(match=f"*{queue}*"), *(f"celery-task-meta-{task_id}" for task_id in published)]
        client.delete(*keys)
        client.close()
