"""`manage.py token_alerts [--today DATE] [--dry-run] [--force] [--plan] [--json]`.

A `--today` no time zone has reached yet would send real mail early and use up the stages it
sends, so it needs `--dry-run` (or `--plan`), or `--force` when that is really wanted.
"""

from __future__ import annotations

from datetime import date
from datetime import timedelta as td
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from integrations.cli import JsonCommand
from tokens.outbox import send_pending_alerts
from tokens.reminders import run_pass, token_plans


def latest_today() -> date:
    """The latest date it is anywhere now (UTC+14 is the first time zone to reach a date)."""
    return (timezone.now() + td(hours=14)).date()


class Command(JsonCommand):
    help = "Run one token reminder pass (write due stages and send them), or show the reminder plan."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", help="Local date (YYYY-MM-DD) to run as, for every tenant; ignores the send hour."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Show what would be written; change nothing."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Send even for a --today in the future.",
        )
        parser.add_argument("--plan", action="store_true", help="List every token's future reminder dates.")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args: Any, **opts: Any) -> None:
        today = None
        if opts["today"]:
            try:
                today = date.fromisoformat(opts["today"])
            except ValueError:
                raise CommandError(
                    f"--today {opts['today']!r} is not a date (YYYY-MM-DD)", returncode=2
                ) from None
        if opts["plan"]:
            self.show_plan(token_plans(today), opts["json"])
            return
        if today is not None and today > latest_today() and not (opts["dry_run"] or opts["force"]):
            raise CommandError(
                f"--today {today} is in the future: it would send real reminders early and use up their "
                "stages; add --dry-run to look, or --force to send anyway",
                returncode=2,
            )
        result = run_pass(today=today, dry_run=opts["dry_run"])
        out = result.as_dict()
        out["dry_run"] = opts["dry_run"]
        if not opts["dry_run"]:
            out["messages_sent"] = send_pending_alerts()
        if opts["json"]:
            self.write_json(out)
            return
        verb = "would write" if opts["dry_run"] else "wrote"
        self.stdout.write(f"{verb} {len(result.due) if opts['dry_run'] else result.written} reminder(s)")
        for a in result.due:
            flag = "  [nobody verified to tell]" if a.unattended else ""
            self.stdout.write(
                f"  {a.day}  {a.stage:<8} {a.token.connection.key}  {a.token.service_login or '-'}  "
                f"expires {a.token.expires} ({a.days_left} d){flag}"
            )
        if result.waiting_tenants:
            self.stdout.write("waiting for their morning: " + ", ".join(result.waiting_tenants))
        if not opts["dry_run"]:
            self.stdout.write(f"{out['messages_sent']} message(s) sent")

    def show_plan(self, plans: list[dict[str, Any]], as_json: bool) -> None:
        if as_json:
            self.write_json(plans)
            return
        for p in plans:
            self.stdout.write(
                f"{p['connection']}  {p['service_login'] or '-'}  expires {p['expires']} "
                f"({p['days_left']} d, {p['time_zone']})"
            )
            if not p["plan"]:
                self.stdout.write("  (no reminders left)")
            for step in p["plan"]:
                self.stdout.write(f"  {step['day']}  {step['stage']:<8} {step['days_left']:>4} d left")
