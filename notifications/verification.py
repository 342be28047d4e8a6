"""Signed links: verify a user's address, confirm a list subscription, leave a list.

Verification and confirmation links expire (TimestampSigner, TOKENS_VERIFY_MAX_AGE);
unsubscribe links do not, since one-click leave must keep working in old mail. Each
link names exactly one row and the address it was sent to, so a link stops working
when the address changes.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from notifications.conf import app_settings
from notifications.mailer import Report, send_to
from notifications.models import EmailAddress, Subscriber

# The salts keep the names of the app these links were first signed in: links already
# mailed stay valid.
# The salts keep the name of the app these links were first signed in, so links in
# mail already sent stay valid.
VERIFY_SALT = "tokens.verify-email"
CONFIRM_SALT = "tokens.confirm-subscription"
UNSUBSCRIBE_SALT = "tokens.unsubscribe"


class LinkError(Exception):
    """A link that is tampered with, expired or meant for something else; the message says which."""


def _read(token: str, salt: str, max_age: int | None) -> dict:
    try:
        if max_age is None:
            return signing.Signer(salt=salt).unsign_object(token)
        return signing.TimestampSigner(salt=salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError("This link has expired. Ask for a new one.") from None
    except signing.BadSignature:
        raise LinkError("This link is not valid (it was changed or cut short).") from None


# --- user addresses -------------------------------------------------------------------
def verification_url(address: EmailAddress) -> str:
    token = signing.TimestampSigner(salt=VERIFY_SALT).sign_object({"a": address.pk, "e": address.email})
    return settings.SITE_URL + reverse("notifications:verify-email", args=[token])


def read_verification(token: str) -> EmailAddress:
    data = _read(token, VERIFY_SALT, app_settings.VERIFY_MAX_AGE)
    address = (
        EmailAddress.objects.select_related("user").filter(pk=data.get("a"), email=data.get("e")).first()
    )
    if address is None:
        raise LinkError("This link is for an address that is no longer on file.")
    return address


def send_verification(address: EmailAddress) -> Report:
    """(Re)send the verification link; the address itself is the only recipient."""
    report = send_to(
        "verify-email",
        {
            "user": address.user,
            "address": address.email,
            "verify_url": verification_url(address),
            "hours": app_settings.VERIFY_MAX_AGE // 3600,
        },
        [address.email],
    )
    if report.sent:
        EmailAddress.objects.filter(pk=address.pk).update(verification_sent_at=timezone.now())
    return report


# --- subscription lists ---------------------------------------------------------------
def confirmation_url(sub: Subscriber) -> str:
    token = signing.TimestampSigner(salt=CONFIRM_SALT).sign_object(
        {"s": sub.pk, "l": sub.list_id, "e": sub.email}
    )
    return settings.SITE_URL + reverse("notifications:confirm-subscription", args=[sub.list_id, token])


def unsubscribe_url(sub: Subscriber) -> str:
    token = signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object({"s": sub.pk, "l": sub.list_id, "e": sub.email})
    return settings.SITE_URL + reverse("notifications:unsubscribe", args=[sub.list_id, token])


def _subscriber(token: str, list_id: int, salt: str, max_age: int | None) -> Subscriber:
    data = _read(token, salt, max_age)
    if data.get("l") != list_id:
        raise LinkError("This link belongs to a different list; nothing was changed.")
    sub = (
        Subscriber.objects.select_related("list__tenant")
        .filter(pk=data.get("s"), list_id=list_id, email=data.get("e"))
        .first()
    )
    if sub is None:
        raise LinkError("This address is no longer on the list.")
    return sub


def read_confirmation(token: str, list_id: int) -> Subscriber:
    return _subscriber(token, list_id, CONFIRM_SALT, app_settings.VERIFY_MAX_AGE)


def read_unsubscribe(token: str, list_id: int) -> Subscriber:
    return _subscriber(token, list_id, UNSUBSCRIBE_SALT, None)


def send_confirmation(sub: Subscriber) -> Report:
    report = send_to(
        "confirm-subscription",
        {
            "subscriber": sub,
            "list": sub.list,
            "tenant": sub.list.tenant,
            "confirm_url": confirmation_url(sub),
            "hours": app_settings.VERIFY_MAX_AGE // 3600,
        },
        [sub.email],
    )
    if report.sent:
        Subscriber.objects.filter(pk=sub.pk).update(confirmation_sent_at=timezone.now())
    return report
