from django.apps import AppConfig


class ProjectConfig(AppConfig):
    """The project itself as an app: nothing but the Celery app, loaded with Django."""

    name = "config"
    verbose_name = "Project configuration"

    def ready(self) -> None:
        # Every Django process (web workers, manage.py, tests) loads the project's Celery app before
        # anything sends a task, so that @shared_task binds to it rather than to Celery's default
        # app (no broker configured). Worker and beat load it themselves (`celery --app config`).
        from config import celery  # noqa: F401
