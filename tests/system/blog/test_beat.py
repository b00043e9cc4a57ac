"""scripts/beat as deployed, a real process: the schedule it loads and the level it logs at."""

import re
import signal

import pytest

from tests.support import harness


@pytest.mark.system
def test_scripts_beat_loads_the_schedule_and_logs_at_log_level(tmp_path):
    """The beat process as deployed: it reads the schedule from settings and logs at LOG_LEVEL
    (at DEBUG it lists the schedule it runs), not at Celery's own default of WARNING."""
    schedule_file = tmp_path / "celerybeat-schedule"
    env = harness.app_env(
        f"sqlite:///{tmp_path / 'unused.sqlite3'}",  # beat never queries the database
        LOG_LEVEL="DEBUG",
        PYTHONUNBUFFERED="1",
        CELERY_BEAT_SCHEDULE_FILENAME=str(schedule_file),
    )
    log_path = tmp_path / "beat.log"
    # Started once it logs "beat: Starting" at INFO.
    with harness.Beat.start(env, log_path, timeout=60) as beat:
        harness.wait_until(
            lambda: "accounts.tasks.flush_expired_tokens" in beat.output(), "beat to list its schedule", logs=(beat,)
        )
        # SIGTERM, then SIGKILL (exit -9) if beat is still running 30 s later.
        assert beat.stop(signal.SIGTERM, timeout=30) == 0

    output = log_path.read_text()
    assert re.search(r"INFO celery\.beat .*beat: Starting", output), output[-4000:]
    sweep = r"notifications-outbox-sweep blog\.tasks\.sweep_pending_notifications\(\) <freq: 1\.00 minute>"
    assert re.search(sweep, output)
    assert re.search(r"flush-expired-jwt-tokens accounts\.tasks\.flush_expired_tokens\(\) <freq: 1\.00 day>", output)
    assert schedule_file.exists()
