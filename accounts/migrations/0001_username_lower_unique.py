"""Usernames unique whatever their case, enforced by the database: a unique index on
lower(username) of auth_user (SQLite and Postgres both index an expression).

Two registrations of `name` and `NAME` racing past the serializer's check can no longer both be
saved: the second insert fails, and accounts.services answers it with the same 400 as a plain
duplicate. Rows that already differ only by case would make the index fail to build: the
migration stops first, naming them and saying how to fix them.
"""

from django.db import migrations

INDEX = "auth_user_username_lower_uniq"


def refuse_case_duplicates(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT lower(username), count(*) FROM auth_user GROUP BY lower(username) HAVING count(*) > 1 ORDER BY 1"
        )
        duplicates = cursor.fetchall()
        if not duplicates:
            return
        names = []
        for lowered, _count in duplicates:
            cursor.execute("SELECT id, username FROM auth_user WHERE lower(username) = %s ORDER BY id", [lowered])
            names.append(", ".join(f"{username!r} (id {pk})" for pk, username in cursor.fetchall()))
    raise RuntimeError(
        "Cannot make usernames unique whatever their case: these accounts differ only by case: "
        + "; ".join(names)
        + ". Rename all but one of each group (admin, or `User.objects.filter(pk=...).update(username=...)` "
        "in `python manage.py shell`), tell their owners, then run `python manage.py migrate` again."
    )


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(refuse_case_duplicates, migrations.RunPython.noop, elidable=False),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (lower(username))",
            f"DROP INDEX {INDEX}",
        ),
    ]
