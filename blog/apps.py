from django.apps import AppConfig
from django.db.models.signals import post_migrate


class BlogConfig(AppConfig):
    name = "blog"

    def ready(self):
        # Registers the Celery tasks in every process (web included): the outbox enqueues the
        # notify task by its registered name.
        from . import read_cache, tasks  # noqa: F401

        post_migrate.connect(_search_column_follows_config, sender=self)


def _search_column_follows_config(sender, using, plan=None, **kwargs):
    """After migrate (the release step): rebuild the search column if SEARCH_CONFIG changed."""
    from django.db import connections

    from .search import ensure_search_column

    connection = connections[using]
    # Only once the column's migration has run (not when migrating backwards past it).
    if connection.vendor == "postgresql" and "blog_post" in connection.introspection.table_names():
        from django.db.migrations.recorder import MigrationRecorder

        applied = MigrationRecorder(connection).applied_migrations()
        if ("blog", "0003_post_search_vector") in applied:
            ensure_search_column(connection)
