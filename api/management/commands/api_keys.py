"""`manage.py api_keys create|list|revoke`: a tenant's read-API keys from the shell.

    api_keys create TENANT --name N --scope data:read [--scope health:read] [--created-by USER]
    api_keys list [TENANT] [--json]
    api_keys revoke TENANT NAME

`create` prints the key once (it is stored only as a digest). A key made for a partner
(`--created-by` a partner of the tenant) is refused tokens:read, as in the admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError, CommandParser

from api.models import SCOPE_NAMES, ApiKey
from integrations.cli import JsonCommand, dumps, iso_z
from integrations.models import Tenant


class Command(JsonCommand):
    help = "Create, list and revoke read-API keys of a tenant."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("tenant", help="tenant slug")
        create.add_argument("--name", required=True, help="what uses the key")
        create.add_argument(
            "--scope", action="append", default=[], help=f"repeatable; one of {', '.join(SCOPE_NAMES)}"
        )
        create.add_argument(
            "--created-by", help="username the key is made for (recorded; partners get no tokens)"
        )
        create.add_argument("--json", action="store_true")
        listing = sub.add_parser("list", help="keys with their last use (never the key)")
        listing.add_argument("tenant", nargs="?", help="tenant slug")
        listing.add_argument("--json", action="store_true")
        revoke = sub.add_parser("revoke", help="revoke a key by name")
        revoke.add_argument("tenant", help="tenant slug")
        revoke.add_argument("name", help="the key's name")
        revoke.add_argument("--json", action="store_true")

    def tenant(self, slug: str) -> Tenant:
        try:
            return Tenant.objects.get(slug=slug)
        except Tenant.DoesNotExist:
            raise CommandError(f"no tenant {slug!r}", returncode=2) from None

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"do_{options['action']}")(options)

    def do_create(self, options: dict[str, Any]) -> None:
        tenant = self.tenant(options["tenant"])
        user = None
        if options["created_by"]:
            user = get_user_model().objects.filter(username=options["created_by"]).first()
            if user is None:
                raise CommandError(f"no user {options['created_by']!r}", returncode=2)
        scopes = [s for raw in options["scope"] for s in raw.replace(",", " ").split()]
        try:
            key, plain = ApiKey.create(tenant, options["name"], scopes, user)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages), returncode=2) from None
        if options["json"]:
            self.stdout.write(dumps({**self.describe(key), "key": plain}))
        else:
            self.stdout.write(f"{plain}\n(shown once: {tenant.slug} · {key.name} · {key.scopes})")

    def do_list(self, options: dict[str, Any]) -> None:
        keys = ApiKey.objects.select_related("tenant", "created_by").order_by("tenant__slug", "name", "id")
        if options["tenant"]:
            keys = keys.filter(tenant=self.tenant(options["tenant"]))
        rows = [self.describe(k) for k in keys]
        if options["json"]:
            self.stdout.write(dumps(rows))
            return
        for r in rows:
            state = f"revoked {r['revoked']}" if r["revoked"] else f"last used {r['last_used'] or 'never'}"
            self.stdout.write(f"{r['tenant']}\t{r['name']}\t{r['key']}\t{' '.join(r['scopes'])}\t{state}")

    def do_revoke(self, options: dict[str, Any]) -> None:
        tenant = self.tenant(options["tenant"])
        key = ApiKey.objects.live().filter(tenant=tenant, name=options["name"]).first()
        if key is None:
            raise CommandError(f"{tenant.slug} has no live key named {options['name']!r}", returncode=2)
        key.revoke()
        if options["json"]:
            self.stdout.write(dumps(self.describe(key)))
        else:
            self.stdout.write(f"revoked {tenant.slug} · {key.name} ({key.masked})")

    @staticmethod
    def describe(key: ApiKey) -> dict[str, Any]:
        return {
            "tenant": key.tenant.slug,
            "name": key.name,
            "key": key.masked,
            "scopes": key.scope_list,
            "created_by": key.created_by.get_username() if key.created_by else None,
            "created": iso_z(key.created),
            "last_used": iso_z(key.last_used),
            "revoked": iso_z(key.revoked),
        }
