"""Receivers connected when the app is ready: an address row for every user's address, and
a notice to a tenant's owners and managers when one of its endpoints is disabled."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver

from notifications.models import EmailAddress, EndpointNotice
from notifications.signals import endpoint_disabled


@receiver(post_save, sender=get_user_model())
def track_address(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.email:
        EmailAddress.objects.get_or_create(user=instance, email=instance.email.strip().lower())


@receiver(endpoint_disabled)
def queue_endpoint_disabled_mail(sender: Any, endpoint: Any, reason: str, **kwargs: Any) -> None:
    """The outbox disabled an endpoint that kept failing: tell who can fix it (`notices`)."""
    EndpointNotice.objects.create(endpoint=endpoint, reason=reason)
