"""`manage.py sandbox`: serve the simulated vendor APIs in the foreground (also run by `make run`)."""

from __future__ import annotations

import signal
import threading
import zoneinfo
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from integrations.cli import JsonCommand, dumps
from integrations.sandbox import drop
from integrations.sandbox.conf import app_settings
from integrations.sandbox.server import SandboxServer
from integrations.sandbox.traffic import SLOT, slot_start


class Command(JsonCommand):
    help = (
        "Serve every simulated vendor API (8x8, Nextiva, Thrio, TCN) on one port, and write TCN's "
        "15-minute call files into the drop folder(s), backfilling the last day first."
    )
    # The sandbox touches no database and no URLconf: it starts even while the site is misconfigured.
    requires_system_checks: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Set to stop the loop (SIGTERM/SIGINT do it in the foreground; tests set it directly).
        self.stopped = threading.Event()
        self.ready = threading.Event()
        self.server: SandboxServer | None = None

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=app_settings.HOST, help="address to bind (default 127.0.0.1)")
        parser.add_argument(
            "--port", type=int, default=app_settings.PORT, help="port (default 8765; 0 = any)"
        )
        parser.add_argument(
            "--drop-folder",
            action="append",
            dest="drop_folders",
            metavar="PATH",
            help="folder for TCN's call files; repeat for several (default: the demo connection's)",
        )
        parser.add_argument("--no-drop", action="store_true", help="write no TCN files")
        parser.add_argument(
            "--backfill-hours",
            type=int,
            default=app_settings.BACKFILL_HOURS,
            help="write the files of this many past hours at start (default 24; 0 = none)",
        )
        parser.add_argument(
            "--seed", default=app_settings.SEED, help="traffic seed (same seed, same traffic)"
        )
        parser.add_argument("--zone", default=app_settings.ZONE, help="the simulated tenant's time zone")
        parser.add_argument(
            "--token-lifetime",
            type=int,
            default=app_settings.TOKEN_LIFETIME,
            help="Nextiva/Thrio token lifetime in seconds (default 3600)",
        )
        parser.add_argument("--json", action="store_true", help="print the base URLs as JSON once serving")

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 <= options["port"] <= 65535:
            raise CommandError(f"--port must be 0..65535, not {options['port']}", returncode=2)
        if options["backfill_hours"] < 0 or options["backfill_hours"] > 24 * 31:
            raise CommandError("--backfill-hours must be between 0 and 744", returncode=2)
        if options["token_lifetime"] < 1:
            raise CommandError("--token-lifetime must be at least 1 second", returncode=2)
        try:
            zoneinfo.ZoneInfo(options["zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"--zone: unknown time zone {options['zone']!r}", returncode=2) from None
        folders = (
            []
            if options["no_drop"]
            else [Path(p) for p in (options["drop_folders"] or app_settings.DROP_FOLDERS)]
        )
        for folder in folders:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CommandError(
                    f"--drop-folder {folder}: cannot create it ({exc.strerror})", returncode=2
                ) from None

        try:
            server = SandboxServer(
                options["host"],
                options["port"],
                seed=options["seed"],
                zone=options["zone"],
                credentials=app_settings.CREDENTIALS,
                token_lifetime=td(seconds=options["token_lifetime"]),
                drop_folders=folders,
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc.strerror}"
            ) from None
        self.server = server

        now = timezone.now()
        written = []
        if folders and options["backfill_hours"]:
            start = now - td(hours=options["backfill_hours"])
            written = drop.backfill(folders, server.traffic, start, now, server.faults)
        # The writer goes on from the backfill's last interval, even if a boundary passed meanwhile.
        server.drop.last_written = slot_start(now) - SLOT

        server.start()
        self._install_signals()
        info: dict[str, Any] = {
            "root": server.root_url,
            "base_urls": {vendor: server.base_url(vendor) for vendor in server.base_paths},
            "control": server.root_url + "/_control/faults",
            "drop_folders": [str(f) for f in folders],
            "backfilled_files": len(written),
        }
        if options["json"]:
            self.stdout.write(dumps(info, indent=None))
        else:
            self.stdout.write(f"Vendor sandbox on {server.root_url} (Ctrl-C stops it)")
            for vendor, url in info["base_urls"].items():
                self.stdout.write(f"  {vendor:>8}: {url}")
            for folder in folders:
                self.stdout.write(f"  TCN files every 15 minutes into {folder} ({len(written)} backfilled)")
        self.stdout.flush()
        self.ready.set()
        try:
            self.stopped.wait()
        finally:
            server.stop()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopped.set())
