from __future__ import annotations

from django.urls import path

from collectors import views

app_name = "collectors"

# The health pages live outside /admin/: the admin's catch-all URL would answer 404 for
# any /admin/<unknown>/ path. They are wrapped with `admin.site.admin_view` all the same.
urlpatterns = [
    path("health/", views.health_page, name="health"),
    path("health/<int:schedule_id>/", views.stream_page, name="health-stream"),
    path("health/<int:schedule_id>/<str:action>/", views.stream_action, name="health-action"),
    path("metrics", views.metrics, name="metrics"),
]
