"""`connections import FILE`, `connections export`, `connections test CONN`.

The file format is documented in the README ("Connections file"); the work is done by
`wfm_site.connections_file` and `integrations.connection_check`.
"""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from integrations.cli import JsonCommand, dumps
from integrations.connection_check import check_connection
from integrations.models import Tenant, VendorConnection
from wfm_site.connections_file import FileProblems, export_data, export_text, import_text


class Command(JsonCommand):
    help = "Import or export tenants and vendor connections as YAML, or test a connection."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,export,test}")
        imp = sub.add_parser(
            "import", help="Create or update everything in FILE (idempotent, all or nothing)."
        )
        imp.add_argument("file", help="a YAML connections file, or - for standard input")
        imp.add_argument("--dry-run", action="store_true", help="validate and count, change nothing")
        imp.add_argument("--json", action="store_true", help="print the summary as JSON")
        exp = sub.add_parser("export", help="Print tenants and connections as YAML (never a secret).")
        exp.add_argument("--tenant", help="only this tenant (slug)")
        exp.add_argument("--json", action="store_true", help="print JSON instead of YAML")
        test = sub.add_parser("test", help="Check a connection's credentials and reachability.")
        test.add_argument("conn", metavar="CONN", help="tenant-slug/connection-name")
        test.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"handle_{options['action']}")(options)

    # --- import -------------------------------------------------------------------------
    def handle_import(self, options: dict[str, Any]) -> None:
        name = options["file"]
        if name == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(name).read_text(encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"cannot read {name}: {exc.strerror}", returncode=2) from None
        try:
            summary = import_text(text, dry_run=options["dry_run"])
        except FileProblems as exc:
            if options["json"]:
                self.stdout.write(dumps({"ok": False, "problems": exc.problems}))
            for line in exc.problems:
                self.stderr.write(line)
            raise CommandError(
                f"{name}: {len(exc.problems)} problem(s), nothing was changed", returncode=2
            ) from None
        if options["json"]:
            self.stdout.write(dumps({"ok": True, **summary.as_dict()}))
            return
        for line in summary.lines():
            self.stdout.write(line)
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was changed.")

    # --- export -------------------------------------------------------------------------
    def handle_export(self, options: dict[str, Any]) -> None:
        tenants = Tenant.objects.all()
        if options["tenant"]:
            tenants = tenants.filter(slug=options["tenant"])
            if not tenants.exists():
                raise CommandError(f"no tenant with the slug {options['tenant']!r}", returncode=2)
        if options["json"]:
            self.stdout.write(dumps(export_data(tenants)))
        else:
            self.stdout.write(export_text(tenants), ending="")

    # --- test ---------------------------------------------------------------------------
    def handle_test(self, options: dict[str, Any]) -> None:
        try:
            conn = VendorConnection.objects.get_by_key(options["conn"])
        except VendorConnection.DoesNotExist as exc:
            raise CommandError(str(exc), returncode=2) from None
        result = check_connection(conn)
        if options["json"]:
            self.stdout.write(dumps(result.as_dict()))
        elif result.ok:
            self.stdout.write(f"{conn.key}: OK")
            for item in result.checked:
                self.stdout.write(f"  checked: {item}")
        if not result.ok:
            raise CommandError(f"{conn.key}: {result.error_class}: {result.error}", returncode=1)
