"""config/release.py: migrate's report as log lines (scripts/release runs it for real in
tests/config/test_gunicorn.py)."""

import logging

import pytest

from config.release import LogLines, release


def test_each_complete_line_is_one_log_record(caplog):
    caplog.set_level(logging.INFO, logger="config.release")
    report = LogLines()
    report.write("Operations to perform:\n  Apply all migrations: blog\n")
    report.write("  Applying blog.0001_initial...")
    report.flush()  # as migrate does before it applies the migration
    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["Operations to perform:", "Apply all migrations: blog"]
    report.write(" OK\n\n")
    report.write("unterminated")
    report.finish()
    messages = [record.getMessage() for record in caplog.records]
    assert messages[2:] == ["Applying blog.0001_initial... OK", "unterminated"]
    assert {record.name for record in caplog.records} == {"config.release"}


@pytest.mark.django_db
def test_release_on_a_migrated_database_reports_nothing_to_apply(caplog):
    caplog.set_level(logging.INFO, logger="config.release")
    release()
    assert "No migrations to apply." in [record.getMessage() for record in caplog.records]
