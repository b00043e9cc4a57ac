"""Settings for every environment, one file per concern; DJANGO_SETTINGS_MODULE=config.settings.

Production and local development differ only in environment variables, all read through
config/env.py (the one reader, failing fast naming the variable). With none set, the project
runs in its embedded mode: SQLite file, tasks executed eagerly, local-memory cache, console email.

Each module below declares the settings of its concern; this one gathers them for Django.
"""

# Read before Django by gunicorn's master too (config/gunicorn.py); settings like any other here.
from config.env import (  # noqa: F401
    DEBUG,
    FORWARDED_ALLOW_IPS,
    PORT,
    WEB_CONCURRENCY,
    WEB_MAX_REQUESTS,
    WEB_THREADS,
    WEB_TIMEOUT,
)

from .api import *  # noqa: F403
from .cache import *  # noqa: F403
from .celery import *  # noqa: F403
from .core import *  # noqa: F403
from .database import *  # noqa: F403
from .email import *  # noqa: F403
from .logging import *  # noqa: F403
from .platform import *  # noqa: F403
from .security import *  # noqa: F403
from .sentry import *  # noqa: F403
