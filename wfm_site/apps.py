from __future__ import annotations

from django.apps import AppConfig


class WfmSiteConfig(AppConfig):
    name = "wfm_site"
    verbose_name = "Switchboard"

    def ready(self) -> None:
        from wfm_site import checks  # noqa: F401  (registers the settings checks)
        from wfm_site.observability import init_sentry

        init_sentry()
