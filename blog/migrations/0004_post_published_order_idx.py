"""`ordering=published_at` in both directions reads this index on Postgres (api.filters puts a
nullable field's nulls last): published posts newest first, drafts after them.

On Postgres only: SQLite refuses NULLS LAST in an index definition, and the embedded default's
tables are small enough to sort. The index is in the model's state everywhere, so the
autodetector sees no change on either database.
"""

from django.db import migrations, models


class AddIndexOnPostgres(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("blog", "0003_post_search_vector")]

    operations = [
        migrations.RemoveIndex(model_name="post", name="post_published_at_idx"),
        AddIndexOnPostgres(
            model_name="post",
            index=models.Index(
                models.OrderBy(models.F("published_at"), descending=True, nulls_last=True),
                models.OrderBy(models.F("created_at"), descending=True),
                models.OrderBy(models.F("id"), descending=True),
                name="post_published_order_idx",
            ),
        ),
    ]
