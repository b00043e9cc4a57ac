"""The project's configuration. Importing this package loads nothing: gunicorn's master imports
config.env and config.limits alone; Django processes load the Celery app through config/apps.py,
and `celery --app config` finds it in config/celery.py."""
