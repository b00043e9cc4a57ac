"""System tier: real processes (gunicorn through scripts/web, nginx, Celery worker and beat,
honcho, Chromium, the live stack, Schemathesis against a live server); marked `system`."""
