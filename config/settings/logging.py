"""Logging: one line per record on stdout, JSON (LOG_JSON) at LOG_LEVEL, with the request id."""

from config.env import LOG_JSON, LOG_LEVEL
from config.logging import stdout_config

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    **stdout_config(as_json=LOG_JSON),
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stdout"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
