from django.apps import AppConfig


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self):
        # Registers the Celery tasks in every process (web included): the outbox enqueues the
        # notify task by its registered name.
        from . import tasks  # noqa: F401
