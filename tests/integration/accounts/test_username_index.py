"""The unique index on lower(username) of auth_user exists on both databases the project runs on:
SQLite (a file, migrated by a child process) and Postgres (the suite's test database)."""

import sqlite3

import pytest
from django.db import connection

from tests.support import child
from tests.support.external import postgres_url

INDEX = "auth_user_username_lower_uniq"


def test_the_index_exists_on_sqlite_and_refuses_a_case_duplicate(tmp_path):
    database = tmp_path / "db.sqlite3"
    result = child.manage("migrate", "--noinput", env=child.app_env(f"sqlite:///{database}"))
    assert result.returncode == 0, result.stderr[-3000:]
    with sqlite3.connect(database) as db:
        unique = {name: flag for _seq, name, flag, *_ in db.execute("PRAGMA index_list(auth_user)")}
        assert unique.get(INDEX) == 1, unique
        (sql,) = db.execute("SELECT sql FROM sqlite_master WHERE name = ?", [INDEX]).fetchone()
        assert "lower(username)" in sql
        insert = (
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined) VALUES ('', 0, ?, '', '', '', 0, 1, '2026-01-01')"
        )
        db.execute(insert, ["Name"])
        with pytest.raises(sqlite3.IntegrityError):
            db.execute(insert, ["nAME"])


@pytest.mark.django_db
def test_the_index_exists_on_postgres():
    postgres_url()
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "auth_user")
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        (definition,) = cursor.fetchone()
    assert constraints[INDEX]["unique"], constraints[INDEX]
    assert "lower((username)::text)" in definition, definition
