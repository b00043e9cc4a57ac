"""Test-only settings: production settings plus URLs that fail on purpose (crash_urls.py).

Used by child processes (DJANGO_SETTINGS_MODULE=tests.support.crash_settings) that must see a
real unhandled exception; the app's own URLconf has no such view and must not get one.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.support.crash_urls"
