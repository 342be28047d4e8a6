from __future__ import annotations

from typing import cast

from django.contrib import admin
from django.urls import include, path, reverse_lazy

from wfm_site import views

# The admin's "View site" link: the site outside the admin is the health page ("/" is a 404).
# Lazy (these URLs are not loaded yet); the admin only ever renders it as text.
admin.site.site_url = cast("str", reverse_lazy("collectors:health"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("notifications.urls")),
    path("", include("collectors.urls")),
]
