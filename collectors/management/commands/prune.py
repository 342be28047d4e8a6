"""`manage.py prune [--dry-run] [--json] [--batch-size N] [--only TABLE,...]`: apply retention.

The hourly beat task does the same; by hand it is for a first prune after an upgrade, or to
see what would go (`--dry-run`). Safe to run while the beat task prunes: a table another
pruner holds is reported `busy` and left to it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError, CommandParser

from collectors import retention
from integrations.cli import JsonCommand


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise CommandError(f"--batch-size {value!r} is not a whole number", returncode=2) from None
    if number < 1:
        raise CommandError(f"--batch-size {value!r} must be at least 1", returncode=2)
    return number


class Command(JsonCommand):
    help = "Delete rows the retention policies no longer keep, in short batches; per-table counts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
        parser.add_argument("--json", action="store_true", help="one JSON object: tables and a total")
        parser.add_argument("--batch-size", help="rows per transaction (default RETENTION_BATCH_SIZE)")
        parser.add_argument(
            "--only", help=f"comma-separated tables to prune, of: {', '.join(retention.POLICY_NAMES)}"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch = positive(options["batch_size"]) if options["batch_size"] is not None else None
        only = None
        if options["only"]:
            only = [name.strip() for name in options["only"].split(",") if name.strip()]
            unknown = [name for name in only if name not in retention.POLICY_NAMES]
            if unknown or not only:
                raise CommandError(
                    f"--only {options['only']!r}: unknown table; use {', '.join(retention.POLICY_NAMES)}",
                    returncode=2,
                )
        try:
            outcomes = retention.prune(batch_size=batch, dry_run=options["dry_run"], only=only)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc), returncode=2) from None
        total = sum(o.deleted for o in outcomes)
        if options["json"]:
            doc = {
                "dry_run": options["dry_run"],
                "tables": [o.as_dict() for o in outcomes],
                "deleted": total,
            }
            self.write_json(doc)
            return
        verb = "would delete" if options["dry_run"] else "deleted"
        for o in outcomes:
            if o.busy:
                self.stdout.write(f"{o.policy} ({o.table}): busy, another prune holds it")
                continue
            rules = ", ".join(f"{rule} {n}" for rule, n in o.rules.items() if n)
            horizon = f"; horizon {o.horizon:%Y-%m-%dT%H:%M:%SZ}" if o.horizon else ""
            detail = f" ({rules})" if rules else ""
            self.stdout.write(
                f"{o.policy} ({o.table}): {verb} {o.deleted} in {o.batches} batch(es){detail}{horizon}"
            )
        self.stdout.write(f"total: {verb} {total}")
