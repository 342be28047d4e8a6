from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Tenants and connections"

    def ready(self) -> None:
        from django.core import checks

        from integrations.vendors.checks import check_vendor_registry

        checks.register(check_vendor_registry)
