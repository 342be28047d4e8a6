from __future__ import annotations

from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "tokens"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Access tokens"

    def ready(self) -> None:
        from tokens import signals  # noqa: F401  (connects the login banner)
