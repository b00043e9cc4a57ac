"""Background-work helpers: the tasks' names, an author and their audience, a record of the task
runs Celery reports, the broker a test uses, and what "notified once" means (the fixtures that
make them are in tests/conftest.py)."""

import threading
from dataclasses import dataclass, field

from blog.models import Notification, Post
from config.celery import app as celery_app
from tests.support.factories import PostFactory

NOTIFY = "blog.tasks.notify_subscribers"
SWEEP = "blog.tasks.sweep_pending_notifications"


@dataclass
class Audience:
    """An author with two subscribers who have a verified email address, one who has none, and
    an outsider who follows somebody else: who must and must not hear of the author's posts."""

    author: object
    alice: object
    bob: object
    no_email: object
    outsider: object

    @property
    def emailed(self):
        return [self.alice, self.bob]

    @property
    def subscribers(self):
        return [self.alice, self.bob, self.no_email]


@dataclass(frozen=True)
class Run:
    name: str
    task_id: str
    args: tuple
    retval: object
    state: str
    eager: bool  # run where it was called, not by a worker


@dataclass(frozen=True)
class Retry:
    name: str
    retries: int  # how many retries came before this one
    countdown: float | None  # the delay Celery scheduled the retry with
    exc: BaseException


@dataclass
class TaskRuns:
    """Every task run Celery reports in this process (eager calls and in-process workers alike),
    from its task_postrun and task_retry signals."""

    runs: list[Run] = field(default_factory=list)
    retries: list[Retry] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)

    def of(self, name: str) -> list[Run]:
        with self._changed:
            return [run for run in self.runs if run.name == name]

    def wait_for(self, name: str, count: int, timeout: float = 60.0) -> list[Run]:
        """The first `count` finished runs of task `name`, waiting for them up to `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.of(name)) >= count, timeout):
                raise AssertionError(f"{name} finished {len(self.of(name))} times within {timeout}s, expected {count}")
            return self.of(name)

    def _on_postrun(self, task=None, task_id=None, args=None, retval=None, state=None, **kwargs):
        with self._changed:
            self.runs.append(Run(task.name, task_id, tuple(args or ()), retval, state, bool(task.request.is_eager)))
            self._changed.notify_all()

    def _on_retry(self, sender=None, request=None, reason=None, **kwargs):
        with self._changed:
            self.retries.append(Retry(sender.name, request.retries, reason.when, reason.exc))


def pending_post(author, **fields) -> Post:
    """A post as the publish left it: published, its notifications still in the outbox."""
    fields.setdefault("notifications_pending", True)
    return PostFactory(author=author, live=True, **fields)


def recipients(post) -> list[int]:
    return sorted(Notification.objects.filter(post=post).values_list("recipient_id", flat=True))


DEADLINE = 60.0  # seconds; generous for a loaded CI machine, never reached when things work


@dataclass(frozen=True)
class Broker:
    url: str
    queue: str


def use_broker(url: str) -> None:
    """Publish to `url` from now on: pooled connections to the previous broker are forgotten
    (what Celery itself does after a fork)."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def assert_notified_once(post, audience, emailed_to: list[tuple[str, ...]]) -> None:
    """One notification per subscriber, one email per subscriber with an address, the outbox drained."""
    recipients = sorted(Notification.objects.filter(post=post).values_list("recipient_id", flat=True))
    assert recipients == sorted(user.pk for user in audience.subscribers)
    assert sorted(emailed_to) == sorted((user.email,) for user in audience.emailed)
    post.refresh_from_db()
    assert post.notifications_pending is False
