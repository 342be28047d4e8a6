from __future__ import annotations

from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    name = "collectors"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Collected data"

    def ready(self) -> None:
        # Connects the task_postrun heartbeat for /healthz.
        # Every saved connection gets (and keeps in step) its CollectionSchedule rows.
        from django.db.models.signals import post_save

        from collectors import heartbeat  # noqa: F401
        from collectors.schedules import on_connection_saved
        from integrations.models import VendorConnection

        post_save.connect(on_connection_saved, sender=VendorConnection, dispatch_uid="collectors.schedules")
