"""`manage.py ingest_file CONN PATH [--json]`: ingest one dropped file (TCN's call volume) now.

The same path as a drop-folder scan (collectors.drops): the ledger makes a file already
ingested a no-op, and a bad file fails its run with the line, column and value. A file in
the connection's drop folder is then filed away (processed/ or quarantine/) as a scan
would; a file elsewhere is left where it is.
Exit status: 0 ingested (or already ingested), 1 the file was refused (or the database failed
while storing it), 2 bad arguments.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError, CommandParser

from collectors.drops import FAILED, QUARANTINED, DropConfigError, drop_folder, ingest_path
from integrations.cli import JsonCommand
from integrations.models import VendorConnection
from integrations.vendors import get_vendor, vendors_supplying
from integrations.vendors.base import STREAM_FILE_DROP


class Command(JsonCommand):
    help = (
        "Ingest one dropped file (e.g. TCN's call volume) for a file-drop connection "
        "(tenant-slug/connection-name)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("connection", metavar="CONN", help="tenant-slug/connection-name")
        parser.add_argument("path", metavar="PATH", help="the CSV file")
        parser.add_argument("--json", action="store_true", help="print the outcome as JSON")

    def handle(self, *args: object, **options: object) -> None:
        try:
            connection = VendorConnection.objects.get_by_key(str(options["connection"]))
        except VendorConnection.DoesNotExist as exc:
            raise CommandError(str(exc), returncode=2) from None
        if not connection.has_drop:
            droppers = " or ".join(get_vendor(key).label for key in vendors_supplying(STREAM_FILE_DROP))
            raise CommandError(
                f"{connection.key} is a {connection.vendor} connection, not {droppers} (no files)",
                returncode=2,
            )
        path = Path(str(options["path"])).expanduser()
        if not path.is_file():
            raise CommandError(f"{path} is not a file", returncode=2)
        try:
            in_drop = path.resolve().parent == drop_folder(connection)
        except DropConfigError:
            in_drop = False
        try:
            result = ingest_path(connection, path.resolve(), move=in_drop)
        except DropConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if options["json"]:
            self.write_json({"connection": connection.key, **result.as_dict()})
        else:
            line = f"{connection.key}: {result.name} {result.status}"
            if result.status not in (QUARANTINED, FAILED):
                line += f": {result.rows} rows, {result.created} intervals created, {result.updated} updated"
            self.stdout.write(line)
            for note in result.notes:
                self.stdout.write(f"  {note}")
            if result.moved_to:
                self.stdout.write(f"  moved to {result.moved_to}")
        if result.status in (QUARANTINED, FAILED):
            # FAILED: the database failed, not the file; it was left where it is.
            raise CommandError(result.reason, returncode=1)
