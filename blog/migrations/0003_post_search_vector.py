"""Post search on Postgres: the generated tsvector column and its GIN index (blog/search.py).

Not a model field (SQLite has none): the column is created here, on Postgres only, and rebuilt by
blog/apps.py after any migrate whose SEARCH_CONFIG differs from the column's.
"""

from django.db import migrations


def create(apps, schema_editor):
    from blog.search import ensure_search_column

    ensure_search_column(schema_editor.connection)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE blog_post DROP COLUMN IF EXISTS search_vector")


class Migration(migrations.Migration):
    dependencies = [("blog", "0002_post_public_list_index")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
