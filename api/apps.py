from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Read API"

    def ready(self) -> None:
        from api import schema  # noqa: F401  (registers the key authentication with drf-spectacular)
