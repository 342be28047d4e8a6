"""Idempotent demo: a tenant with one connection per vendor aimed at the bundled sandbox."""

from __future__ import annotations

import zoneinfo
from datetime import date
from datetime import timedelta as td
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from integrations.cli import JsonCommand
from integrations.egress import EgressError, check_url
from integrations.models import Membership, Tenant, VendorConnection
from integrations.sandbox.vendors import sandbox_vendors
from notifications.models import EmailAddress
from tokens.models import AccessToken
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SANDBOX = "http://127.0.0.1:{port}"
DEMO_PASSWORD_DEFAULT = "switchboard-demo"

USERS = (
    ("admin", None, "superuser"),
    ("owner@demo.example", Membership.OWNER, "account owner"),
    ("manager@demo.example", Membership.MANAGER, "account manager"),
    ("partner@demo.example", Membership.PARTNER, "partner"),
)
# The demo access token expires soon, so reminders and the login banner show at once.
TOKEN_DAYS_LEFT = 12


def mail_folder() -> str | None:
    """The folder emails are written to (under VAR_DIR by default), or None when they are sent."""
    if settings.EMAIL_BACKEND != "django.core.mail.backends.filebased.EmailBackend":
        return None
    return str(settings.EMAIL_FILE_PATH)


class Command(JsonCommand):
    help = "Create (or bring back) the demo tenant, its users and one sandbox connection per vendor."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        parser.add_argument(
            "--sandbox-port",
            type=int,
            default=int(getattr(settings, "SANDBOX_PORT", 8765)),
            help="port of the vendor sandbox (default 8765)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        base = SANDBOX.format(port=options["sandbox_port"])
        try:
            check_url(base)
        except EgressError as exc:
            raise CommandError(
                f"cannot aim the demo at the sandbox ({base}): {exc} "
                "(or run with DEBUG=true, as `make run` does)"
            ) from None
        result = self._setup(options)
        result["reminders"] = self._remind(result["tenant_today"])
        result["tenant_today"] = result["tenant_today"].isoformat()
        result["mail_folder"] = mail_folder()
        if options["json"]:
            self.write_json(result)
            return
        self.stdout.write(f"Demo ready at {result['admin_url']}")
        for login in result["logins"]:
            self.stdout.write(f"  {login['role']:>16}: {login['username']} / {login['password']}")
        where = f"see {result['mail_folder']}" if result["mail_folder"] else "sent through the mail server"
        self.stdout.write(f"  reminder emails written now: {result['reminders']} ({where})")

    @transaction.atomic
    def _setup(self, options: dict) -> dict:
        password = getattr(settings, "DEMO_PASSWORD", "") or DEMO_PASSWORD_DEFAULT
        tenant, _ = Tenant.objects.update_or_create(
            slug="demo", defaults={"name": "Demo Contact Center", "time_zone": "America/Chicago"}
        )
        users = {}
        User = get_user_model()
        for username, role, _label in USERS:
            email = username if "@" in username else "admin@demo.example"
            user, _ = User.objects.get_or_create(username=username, defaults={"email": email})
            user.email = email
            user.is_staff = True
            user.is_superuser = role is None
            user.is_active = True
            # Reset every run, so the login printed below always works.
            user.set_password(password)
            user.save()
            if role:
                Membership.objects.update_or_create(user=user, tenant=tenant, defaults={"role": role})
            # Demo addresses count as confirmed, so reminders reach the mail folder at once.
            address = EmailAddress.for_user(user)
            if address is not None and address.verified_at is None:
                address.verified_at = timezone.now()
                address.save(update_fields=["verified_at"])
            users[username] = user

        base = SANDBOX.format(port=options["sandbox_port"])
        # One connection per simulated vendor, `<vendor>-demo`, with the credentials the
        # sandbox accepts by default.
        connections = []
        token_connection = None
        for vendor, spec in sandbox_vendors().items():
            name = f"{vendor}-demo"
            conn = VendorConnection.objects.filter(tenant=tenant, name=name).first() or VendorConnection(
                tenant=tenant, name=name, vendor=vendor
            )
            conn.realtime_base_url = base + spec.base_path
            conn.apply_vendor_defaults()
            conn.set_values("realtime", spec.credential_values())
            if conn.has_drop:
                # No path: the folder is derived, DROP_ROOT/demo/<vendor>-demo/, where the
                # sandbox writes (an explicit path left by an older demo is cleared).
                conn.set_values("history", {})
            if spec.demo_interval_seconds:
                conn.interval_seconds = spec.demo_interval_seconds
            conn.full_clean()
            conn.save()
            connections.append(conn)
            if spec.demo_token and token_connection is None:
                token_connection = conn

        today = timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.time_zone))
        token = self._demo_token(token_connection or connections[0], users["owner@demo.example"], today)
        return {
            "admin_url": f"{settings.SITE_URL}/admin/",
            "logins": [{"username": u, "password": password, "role": label} for u, _r, label in USERS],
            "tenant": tenant.slug,
            "connections": [c.key for c in connections],
            "token_expires": token.isoformat(),
            "tenant_today": today,
        }

    def _remind(self, today: date) -> int:
        """Run today's reminder pass at once (beat's hourly tick would come an hour later)."""
        run_pass(today=today)
        return send_pending_alerts()

    def _demo_token(self, tcn: VendorConnection, owner: User, today: date) -> date:
        expires = today + td(days=TOKEN_DAYS_LEFT)
        token, _ = AccessToken.objects.get_or_create(
            connection=tcn,
            section="realtime",
            defaults={
                "service_login": "3rd_Switchboard_DemoCC_wfm",
                "owner": owner,
                "issued": expires - td(days=365),
                "expires": expires,
            },
        )
        return token.expires
