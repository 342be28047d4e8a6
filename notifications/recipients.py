"""Who may be told: verified addresses of users, and confirmed members of subscription lists.

Every function takes ids or objects in bulk and runs a fixed number of queries, so a
pass over many tenants costs the same few queries. Addresses are lower-cased.

An address shared by two users of the same tenant is ambiguous (the seed: within an
organization an address belongs to one user only) and is never used for that tenant.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth import get_user_model

from integrations.models import Membership, Tenant
from notifications.models import EmailAddress, Subscriber, SubscriptionList


def verified_emails(user_ids: Iterable[int]) -> dict[int, str]:
    """user id -> the user's current address, for users whose current address is verified."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    current = dict(get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", "email"))
    verified = EmailAddress.objects.filter(user_id__in=ids, verified_at__isnull=False).values_list(
        "user_id", "email"
    )
    out = {}
    for user_id, email in verified:
        if (current.get(user_id) or "").strip().lower() == email:
            out[user_id] = email
    return out


def members_by_tenant(
    tenant_ids: Iterable[int], roles: Sequence[str] = (Membership.OWNER,)
) -> dict[int, list[str]]:
    """tenant id -> verified, unambiguous addresses of its members with one of `roles`."""
    tenant_ids = set(tenant_ids)
    if not tenant_ids:
        return {}
    rows = list(
        Membership.objects.filter(tenant_id__in=tenant_ids, user__is_active=True).values_list(
            "tenant_id", "user_id", "role", "user__email"
        )
    )
    # Addresses used by more than one member of the same tenant are ambiguous.
    users_of_address: dict[tuple[int, str], set[int]] = defaultdict(set)
    for tenant_id, user_id, _role, email in rows:
        if email:
            users_of_address[(tenant_id, email.strip().lower())].add(user_id)
    verified = verified_emails(user_id for _, user_id, role, _ in rows if role in roles)
    out: dict[int, list[str]] = defaultdict(list)
    for tenant_id, user_id, role, _email in rows:
        address = verified.get(user_id)
        if role in roles and address and len(users_of_address[(tenant_id, address)]) == 1:
            out[tenant_id].append(address)
    return {t: sorted(set(a)) for t, a in out.items()}


def tenant_addresses(tenant: Tenant, roles: Sequence[str] = (Membership.OWNER,)) -> list[str]:
    """Verified addresses of a tenant's members with one of `roles` (owners by default)."""
    return members_by_tenant([tenant.pk], roles).get(tenant.pk, [])


def unambiguous_user_email(user_id: int | None, tenant_id: int) -> str | None:
    """A user's verified address, unless another member of the tenant uses it too."""
    if not user_id:
        return None
    address = verified_emails([user_id]).get(user_id)
    if not address:
        return None
    users = set(
        Membership.objects.filter(tenant_id=tenant_id, user__email__iexact=address).values_list(
            "user_id", flat=True
        )
    )
    return address if users <= {user_id} else None


def subscribers_by_tenant(tenant_ids: Iterable[int]) -> dict[int, list[Subscriber]]:
    """tenant id -> confirmed, still-subscribed list members (all of its lists)."""
    out: dict[int, list[Subscriber]] = defaultdict(list)
    rows = Subscriber.objects.filter(
        list__tenant_id__in=set(tenant_ids), confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).select_related("list")
    for sub in rows:
        out[sub.list.tenant_id].append(sub)
    return dict(out)


def list_members(tenant: Tenant, list_name: str | None = None) -> list[Subscriber]:
    """Confirmed members of one named list of a tenant, or of all its lists."""
    qs: Any = Subscriber.objects.filter(
        list__tenant=tenant, confirmed_at__isnull=False, unsubscribed_at__isnull=True
    ).select_related("list")
    if list_name is not None:
        qs = qs.filter(list__name=list_name)
    return list(qs)


def subscription_lists(tenant: Tenant) -> list[SubscriptionList]:
    return list(SubscriptionList.objects.filter(tenant=tenant))
