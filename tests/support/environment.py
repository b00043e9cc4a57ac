"""The test process's environment, set before Django reads its settings.

Loaded as a plugin (`-p tests.support.environment` in pyproject.toml) because pytest-django configures
Django before any conftest.py is imported.
"""

import os

# The suite runs with production defaults (DEBUG off) and a throwaway key; a real
# SECRET_KEY from the caller's shell is never needed nor used.
os.environ["SECRET_KEY"] = "test-only-secret-key-" + "x" * 40
os.environ["JWT_SIGNING_KEY"] = "test-only-jwt-signing-key-" + "z" * 40
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# Each xdist worker keeps its own throttle counters; a shared Redis cache would let
# parallel tests throttle each other.
os.environ.setdefault("CACHE_URL", "locmemcache://")
# The read cache of anonymous post reads is off: force_authenticate sends no credentials, which the
# cache would take for an anonymous client. tests/integration/blog/test_read_cache.py turns it on.
os.environ.setdefault("READ_CACHE_ENABLED", "false")
# Tests run tasks in-process unless a test asks for the real broker (see tests/integration/blog/test_tasks_broker.py).
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("LOG_JSON", "false")
