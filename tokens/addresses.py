"""Whose address may own a token or an account: a person's, once per tenant.

Within a tenant an address belongs to one user only (it may repeat across tenants), and
a token owner or an account owner is a person who is accountable: a group or role
address (`helpdesk@`, `cc-ops@`, TOKENS_ROLE_ADDRESSES) is refused for them unless the
tenant lists it in its reminder settings (`role_addresses_allowed`). Every function
returns the sentences to show (empty when all is well), for forms and the YAML import.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps

from integrations.models import Membership, Tenant
from notifications.models import address_clash, is_role_address


def allowed_role_addresses(tenant: Tenant) -> list[str]:
    """The tenant's exceptions, one per line of its reminder settings' `role_addresses_allowed`."""
    if not tenant.pk:
        return []
    # By name: the token model checks its owner with this module, so it cannot import the models back.
    reminder_settings = apps.get_model("tokens", "TenantReminderSettings")._default_manager
    text = reminder_settings.filter(tenant=tenant).values_list("role_addresses_allowed", flat=True).first()
    return (text or "").split()


def role_address_problem(email: str, tenant: Tenant, as_what: str) -> str | None:
    if not email or not is_role_address(email, allowed_role_addresses(tenant)):
        return None
    return (
        f"{email} is a group or role address: {as_what} must be a person's own address, so someone "
        f"is accountable (or allow it in the reminder settings of {tenant})."
    )


def token_owner_problems(user: Any, tenant: Tenant) -> list[str]:
    problem = role_address_problem(user.email or "", tenant, "a token owner")
    return [problem] if problem else []


def member_problems(user: Any, tenant: Tenant, role: str, email: str | None = None) -> list[str]:
    """A membership of `user` (with `email`, default their current one) in `tenant` as `role`."""
    email = user.email if email is None else email
    out = []
    clash = address_clash(email, Tenant.objects.filter(pk=tenant.pk), user)
    if clash:
        out.append(
            f"{email} already belongs to {clash[0]} in {tenant}: within a tenant an address belongs "
            "to one user only."
        )
    if role == Membership.OWNER:
        problem = role_address_problem(email, tenant, "an account owner")
        if problem:
            out.append(problem)
    return out


def user_email_problems(user: Any, email: str) -> list[str]:
    """A user's address changed to `email`: checked in every tenant they belong to or own a token in."""
    if not user.pk:
        return []
    out = []
    clash = address_clash(email, Tenant.objects.filter(memberships__user=user), user)
    if clash:
        out.append(
            f"{email} already belongs to {clash[0]} in {clash[1]}: within a tenant an address "
            "belongs to one user only."
        )
    for membership in Membership.objects.filter(user=user, role=Membership.OWNER).select_related("tenant"):
        problem = role_address_problem(email, membership.tenant, "an account owner")
        if problem:
            out.append(problem)
    token_tenants = Tenant.objects.filter(connections__access_tokens__owner=user).distinct()
    for tenant in token_tenants:
        problem = role_address_problem(email, tenant, "a token owner")
        if problem and problem not in out:
            out.append(problem)
    return out


def membership_form_problems(user: Any, tenant: Tenant, role: str) -> list[str]:
    """The rule the admin's membership forms call by dotted path (integrations imports no app above it)."""
    return member_problems(user, tenant, role)
