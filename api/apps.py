from django.apps import AppConfig


class ApiConfig(AppConfig):
    """Project-wide DRF plumbing that every app uses. Installed for its templates (the docs pages)."""

    name = "api"
    label = "api"
