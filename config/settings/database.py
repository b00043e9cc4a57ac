"""The database: DATABASE_URL (SQLite in a file when unset)."""

import re

from django.core.exceptions import ImproperlyConfigured

from config.env import env

from .core import BASE_DIR

CONN_MAX_AGE = env.int("CONN_MAX_AGE", default=60)
DATABASES = {
    "default": env.database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=CONN_MAX_AGE)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Fail fast instead of hanging when the database is unreachable.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["connect_timeout"] = env.int("DB_CONNECT_TIMEOUT", default=5)
    # No statement may hold a worker (and its connection) longer than this: Postgres cancels it
    # and the request answers a JSON 503 with Retry-After (api/errors.py). 0 turns it off and sends
    # no startup option at all (a pooler such as PgBouncer may refuse one).
    DB_STATEMENT_TIMEOUT_MS = env.non_negative_int("DB_STATEMENT_TIMEOUT_MS", default=10_000)
    if DB_STATEMENT_TIMEOUT_MS:
        options["options"] = f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"

# The Postgres text search configuration of the post search (blog/search.py): stemming and stop
# words of one language. The release step (migrate) rebuilds the stored search column when it changes.
SEARCH_CONFIG = env.str("SEARCH_CONFIG", default="english")
if not re.fullmatch(r"[a-z_]+", SEARCH_CONFIG):
    raise ImproperlyConfigured(
        f"SEARCH_CONFIG={SEARCH_CONFIG!r} is not a text search configuration name: use one that Postgres lists "
        "in `\\dF` (psql), e.g. english, simple, french, german."
    )
