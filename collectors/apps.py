from __future__ import annotations

from django.apps import AppConfig


class CollectorsConfig(AppConfig):
    name = "collectors"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Collected data"

    def ready(self) -> None:
        from django.core import checks
        from django.db.models.signals import post_delete, post_migrate, post_save, pre_save

        from collectors import heartbeat  # noqa: F401  (the task_postrun heartbeat for /healthz)
        from collectors.checks import check_supplied_streams
        from collectors.health import on_input_changed, on_outcome
        from collectors.retention_conf import check_settings
        from collectors.retest import remember_credentials, retest_if_changed
        from collectors.runs import outcome_recorded
        from collectors.schedules import on_connection_saved, on_migrated
        from integrations.models import Tenant, VendorConnection
        from tokens.models import AccessToken

        # Every saved connection gets (and keeps in step) its CollectionSchedule rows; every
        # migrate (each deploy) brings all of them in step with changed settings.
        post_save.connect(on_connection_saved, sender=VendorConnection, dispatch_uid="collectors.schedules")
        # Credentials changed (admin, YAML import): every stream is re-tested at once.
        pre_save.connect(remember_credentials, sender=VendorConnection, dispatch_uid="collectors.retest.pre")
        post_save.connect(retest_if_changed, sender=VendorConnection, dispatch_uid="collectors.retest.post")
        post_migrate.connect(on_migrated, sender=self, dispatch_uid="collectors.schedules.migrate")
        # The health monitor judges a stream as soon as a run's outcome is stored.
        outcome_recorded.connect(on_outcome, dispatch_uid="collectors.health.on_outcome")
        # A token, a connection or a tenant saved or deleted: its streams are judged at the next
        # health pass (an expiry date, `enabled`, `active` or the time zone may have changed).
        for model in (AccessToken, VendorConnection, Tenant):
            for signal in (post_save, post_delete):
                signal.connect(
                    on_input_changed, sender=model, dispatch_uid=f"collectors.health.{model.__name__}"
                )
        checks.register(check_settings)
        checks.register(check_supplied_streams)
