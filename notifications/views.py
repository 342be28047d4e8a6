"""Public pages behind signed links (no login): verify, confirm, leave.

A GET only shows what the button will do (mail scanners follow links); the POST acts.
The signed token is the credential, so these POSTs are CSRF-exempt; one-click
unsubscribe (RFC 8058) is a POST from the mail provider with no cookie at all.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from notifications.models import Subscriber
from notifications.verification import LinkError, read_confirmation, read_unsubscribe, read_verification


def _page(
    request: HttpRequest, title: str, message: str, *, status: int = 200, action: str = ""
) -> HttpResponse:
    return render(
        request,
        "notifications/link.html",
        {"title": title, "message": message, "action": action},
        status=status,
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        address = read_verification(token)
    except LinkError as exc:
        return _page(request, "Address not verified", str(exc), status=400)
    if request.method == "GET":
        if address.verified_at:
            return _page(request, "Address verified", f"{address.email} is already verified.")
        return _page(
            request, "Verify your address", f"Confirm that {address.email} is yours.", action="Verify"
        )
    try:
        address.confirm()
    except ValidationError as exc:
        return _page(request, "Address not verified", " ".join(exc.messages), status=409)
    return _page(request, "Address verified", f"Thank you: {address.email} will now receive token reminders.")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def confirm_subscription(request: HttpRequest, list_id: int, token: str) -> HttpResponse:
    try:
        sub = read_confirmation(token, list_id)
    except LinkError as exc:
        return _page(request, "Subscription not confirmed", str(exc), status=400)
    # Say all the list receives: the health monitor mails its members too.
    what = f"the access-token expiry reminders and integration health alerts of {sub.list.tenant}"
    if request.method == "GET":
        return _page(
            request,
            "Confirm your subscription",
            f'Send {what} to {sub.email} (list "{sub.list.name}")?',
            action="Confirm",
        )
    Subscriber.objects.filter(pk=sub.pk).update(confirmed_at=timezone.now(), unsubscribed_at=None)
    return _page(request, "Subscribed", f'{sub.email} now receives {what} (list "{sub.list.name}").')


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, list_id: int, token: str) -> HttpResponse:
    try:
        sub = read_unsubscribe(token, list_id)
    except LinkError as exc:
        return _page(request, "Not unsubscribed", str(exc), status=400)
    name = f"{sub.list.name} ({sub.list.tenant})"
    if request.method == "GET":
        if sub.unsubscribed_at:
            return _page(request, "Unsubscribed", f"{sub.email} has already left {name}.")
        return _page(
            request,
            "Leave the list",
            f"Stop sending {name} token reminders and health alerts to {sub.email}?",
            action="Unsubscribe",
        )
    Subscriber.objects.filter(pk=sub.pk, unsubscribed_at=None).update(unsubscribed_at=timezone.now())
    return _page(request, "Unsubscribed", f"{sub.email} has left {name} and gets no more mail from it.")
