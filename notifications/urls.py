from __future__ import annotations

from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("verify-email/<str:token>/", views.verify_email, name="verify-email"),
    path("lists/<int:list_id>/confirm/<str:token>/", views.confirm_subscription, name="confirm-subscription"),
    path("lists/<int:list_id>/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
