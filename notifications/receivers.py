"""Receivers connected when the app is ready: an address row for every user's address, and
the email to a tenant's owners and managers when one of its endpoints is disabled."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.urls import reverse

from integrations.models import Membership
from notifications import mailer, recipients
from notifications.models import EmailAddress
from notifications.signals import endpoint_disabled


@receiver(post_save, sender=get_user_model())
def track_address(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.email:
        EmailAddress.objects.get_or_create(user=instance, email=instance.email.strip().lower())


@receiver(endpoint_disabled)
def mail_endpoint_disabled(sender: Any, endpoint: Any, reason: str, **kwargs: Any) -> None:
    """The outbox disabled an endpoint that kept failing: tell who can fix it."""
    tenant = endpoint.tenant
    addresses = recipients.members_by_tenant([tenant.pk], roles=Membership.MANAGING_ROLES).get(tenant.pk, [])
    if not addresses:
        return
    page = settings.SITE_URL + reverse("admin:notifications_endpoint_change", args=[endpoint.pk])
    context = {"endpoint": endpoint, "tenant": tenant, "reason": reason, "endpoint_url": page}
    mailer.send_to("webhook-disabled", context, addresses, attempts=3)
