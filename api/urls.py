from __future__ import annotations

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework.routers import SimpleRouter

from api import views

app_name = "api"

router = SimpleRouter()
router.register("connections", views.ConnectionViewSet, basename="connections")
router.register("queues", views.QueueViewSet, basename="queues")
router.register("agents", views.AgentViewSet, basename="agents")
router.register("memberships", views.MembershipViewSet, basename="memberships")
router.register("intervals", views.IntervalViewSet, basename="intervals")
router.register("state-events", views.StateEventViewSet, basename="state-events")
router.register("current-states", views.CurrentStateViewSet, basename="current-states")
router.register("stream-health", views.StreamHealthViewSet, basename="stream-health")
router.register("runs", views.RunViewSet, basename="runs")
router.register("token-expiries", views.TokenExpiryViewSet, basename="token-expiries")

urlpatterns = [
    # The schema and its reference page describe the API, not a tenant's data: no key needed.
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularRedocView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
