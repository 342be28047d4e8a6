"""`manage.py ingest_file CONN PATH [--json]`: ingest one dropped file (TCN's call volume) now.

The same path as a drop-folder scan (collectors.drops): the ledger makes a file already
ingested a no-op, and a bad file fails its run with the line, column and value. A file in
the connection's drop folder is then filed away (processed/ or quarantine/) as a scan
would; a file elsewhere is left where it is.
On a terminal a progress bar (bytes read, rate, time left) runs on stderr while the file is
read; under `--json` or when stderr is not a terminal nothing extra is printed.
Exit status: 0 ingested (or already ingested), 1 the file was refused (or the database failed
while storing it), 2 bad arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from django.core.management.base import CommandError, CommandParser

from collectors.drops import FAILED, QUARANTINED, DropConfigError, drop_folder, ingest_path
from integrations.cli import JsonCommand
from integrations.models import VendorConnection
from integrations.vendors import get_vendor, vendors_supplying
from integrations.vendors.base import STREAM_FILE_DROP

if TYPE_CHECKING:
    from tqdm import tqdm


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
        bar = self.progress_bar(path, quiet=bool(options["json"]))
        try:
            result = ingest_path(
                connection, path.resolve(), move=in_drop, progress=None if bar is None else bar.update
            )
        except DropConfigError as exc:
            raise CommandError(str(exc), returncode=2) from None
        finally:
            if bar is not None:
                bar.close()
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

    def progress_bar(self, path: Path, *, quiet: bool) -> tqdm[None] | None:
        """A bar over the file's bytes with rate and time left, on stderr when it is a terminal.

        None under `--json` or when stderr is a pipe or a file: a log or a script reading the
        output gets nothing extra.
        """
        if quiet or not self.stderr.isatty():
            return None
        from tqdm import tqdm

        return tqdm(
            total=path.stat().st_size,
            desc=path.name,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            # The stream itself: OutputWrapper.write would end every redraw with a newline.
            file=self.stderr._out,  # type: ignore[call-overload]  # OutputWrapper's stream is untyped
            dynamic_ncols=True,
        )
