"""The email to a tenant's owners and managers when one of its endpoints was disabled.

`receivers.queue_endpoint_disabled_mail` writes an `EndpointNotice`; `send_pending_notices`
(run at the end of every webhook tick) sends it through the one outbox, so a deferred
message is retried by the same rules as every other email.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.urls import reverse

from integrations.models import Membership
from notifications import recipients
from notifications.models import EndpointNotice
from notifications.outbox import BATCH, Mail, mail_rows


def compose(notice: EndpointNotice) -> Mail | str:
    endpoint = notice.endpoint
    tenant = endpoint.tenant
    addresses = recipients.members_by_tenant([tenant.pk], roles=Membership.MANAGING_ROLES).get(tenant.pk, [])
    if not addresses:
        return "nobody verified to tell"
    page = settings.SITE_URL + reverse("admin:notifications_endpoint_change", args=[endpoint.pk])
    context = {"endpoint": endpoint, "tenant": tenant, "reason": notice.reason, "endpoint_url": page}
    return Mail("webhook-disabled", context, addresses)


def send_pending_notices(now: datetime | None = None) -> int:
    """Send unsent notices; returns how many messages went out."""
    due = EndpointNotice.pending(now).select_related("endpoint__tenant").order_by("created", "id")
    return mail_rows(EndpointNotice, due[:BATCH], compose, now)
