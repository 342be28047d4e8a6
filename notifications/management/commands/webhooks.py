"""`webhooks list [--tenant SLUG]` and `webhooks test ENDPOINT` (ENDPOINT: tenant-slug/name).

`test` sends a test event now, once, and exits 1 when it was not delivered. Neither ever
prints an endpoint's URL or secret: only the scheme and host.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.db.models import OuterRef, Subquery

from integrations.cli import JsonCommand, dumps
from integrations.models import Tenant
from notifications.models import Delivery, Endpoint
from notifications.webhooks import SENT, send_test


def endpoint_dict(endpoint: Endpoint, last: Delivery | None) -> dict[str, Any]:
    return {
        "endpoint": endpoint.key,
        "kind": endpoint.kind,
        "url": endpoint.url_hint,
        "events": list(endpoint.events or ()),
        "enabled": endpoint.enabled,
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "last_delivery": last.as_dict() if last else None,
    }


class Command(JsonCommand):
    help = "List notification endpoints (webhook, Slack, Teams), or send one a test event."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{list,test}")
        ls = sub.add_parser("list", help="Every endpoint with its events and last delivery.")
        ls.add_argument("--tenant", help="only this tenant (slug)")
        ls.add_argument("--json", action="store_true", help="print JSON")
        test = sub.add_parser("test", help="Send a test event to ENDPOINT now (once, no retries).")
        test.add_argument("endpoint", metavar="ENDPOINT", help="tenant-slug/endpoint-name")
        test.add_argument("--json", action="store_true", help="print the outcome as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(options)

    def handle_list(self, options: dict[str, Any]) -> None:
        endpoints = Endpoint.objects.select_related("tenant").order_by("tenant__slug", "name")
        if options["tenant"]:
            if not Tenant.objects.filter(slug=options["tenant"]).exists():
                raise CommandError(f"no tenant with the slug {options['tenant']!r}", returncode=2)
            endpoints = endpoints.filter(tenant__slug=options["tenant"])
        listed = list(endpoints)
        newest = Delivery.objects.filter(endpoint=OuterRef("endpoint")).order_by("-created", "-id")
        last = {
            d.endpoint_id: d
            for d in Delivery.objects.filter(endpoint__in=listed, pk=Subquery(newest.values("pk")[:1]))
        }
        rows = [endpoint_dict(e, last.get(e.pk)) for e in listed]
        if options["json"]:
            self.stdout.write(dumps({"endpoints": rows}))
            return
        if not rows:
            self.stdout.write("No notification endpoints.")
            return
        for row in rows:
            state = "enabled" if row["enabled"] else f"DISABLED ({row['disabled_reason'] or 'by hand'})"
            d = row["last_delivery"]
            seen = f"last {d['kind']} {d['created']}: {d['status']}" if d else "no delivery yet"
            if d and d["last_status"]:
                seen += f" (HTTP {d['last_status']})"
            self.stdout.write(
                f"{row['endpoint']}  {row['kind']}  {row['url']}  {state}  "
                f"events: {', '.join(row['events']) or '-'}  {seen}"
            )

    def handle_test(self, options: dict[str, Any]) -> None:
        try:
            endpoint = Endpoint.objects.get_by_key(options["endpoint"])
        except Endpoint.DoesNotExist as exc:
            raise CommandError(str(exc), returncode=2) from None
        delivery, outcome = send_test(endpoint)
        if options["json"]:
            self.stdout.write(dumps({"endpoint": endpoint.key, "delivery": delivery.pk, **outcome.as_dict()}))
        else:
            self.stdout.write(f"{endpoint.key}: test event {outcome.line()}")
        if outcome.status != SENT:
            raise CommandError(f"{endpoint.key}: the test event was not delivered", returncode=1)
