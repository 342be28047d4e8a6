from __future__ import annotations

from django.apps import AppConfig


class WfmSiteConfig(AppConfig):
    name = "wfm_site"
    verbose_name = "Switchboard"
