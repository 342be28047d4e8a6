"""TCN's 15-minute FTP drop: one call-detail CSV per closed UTC interval, into each drop folder.

File: `CallVolume_YYYYMMDD_HHMM.csv` (the UTC interval start), written as `<name>.tmp` and then
renamed, so a scanner never sees half a file. Columns `Call ID,Hunt Group,Start Time,Handle Time,
Result`; `Start Time` is `yyyy/MM/dd HH:mm` in US Pacific time (the TCN guide's format and zone),
`Handle Time` whole seconds (0 when abandoned), `Result` `ANSWERED` or `ABANDONED`. A file holds
every call that entered a hunt group in its interval; with none it is just the header.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from datetime import timedelta as td
from pathlib import Path

from integrations.sandbox.faults import FaultBoard
from integrations.sandbox.traffic import SLOT, Traffic, slot_start

VENDOR = "tcn"
HEADER = ("Call ID", "Hunt Group", "Start Time", "Handle Time", "Result")
PACIFIC = zoneinfo.ZoneInfo("America/Los_Angeles")

log = logging.getLogger(__name__)


def file_name(interval_start: datetime) -> str:
    return f"CallVolume_{interval_start.astimezone(UTC):%Y%m%d_%H%M}.csv"


def render(traffic: Traffic, interval_start: datetime) -> bytes:
    """The file's bytes for one interval (CRLF line ends, as csv writes them)."""
    calls = [c for q in traffic.queues(VENDOR) for c in traffic.calls_in_slot(VENDOR, q.id, interval_start)]
    calls.sort(key=lambda c: (c.entered, c.call_id))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for call in calls:
        writer.writerow(
            (
                call.call_id,
                call.queue_id,
                call.entered.astimezone(PACIFIC).strftime("%Y/%m/%d %H:%M"),
                call.handle_seconds,
                "ABANDONED" if call.abandoned else "ANSWERED",
            )
        )
    return out.getvalue().encode()


def write_interval(folder: Path | str, traffic: Traffic, interval_start: datetime) -> Path:
    """Write one interval's file atomically (temporary name, fsync, rename); return its path."""
    if interval_start != slot_start(interval_start):
        raise ValueError(f"{interval_start.isoformat()} is not on the UTC 15-minute grid")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / file_name(interval_start)
    tmp = final.with_name(final.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(render(traffic, interval_start))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def closed_intervals(start: datetime, end: datetime) -> list[datetime]:
    """Starts of the intervals that lie wholly inside [start, end)."""
    slot = slot_start(start)
    if slot < start:
        slot += SLOT
    out = []
    while slot + SLOT <= end:
        out.append(slot)
        slot += SLOT
    return out


def backfill(
    folders: Iterable[Path | str],
    traffic: Traffic,
    start: datetime,
    end: datetime,
    faults: FaultBoard | None = None,
) -> list[Path]:
    """Write the files of every closed interval in [start, end) at once (the demo's last day)."""
    written: list[Path] = []
    for interval in closed_intervals(start, end):
        if faults is not None and faults.is_set(VENDOR, "missing_file"):
            continue
        written.extend(write_interval(folder, traffic, interval) for folder in folders)
    return written


class DropWriter:
    """Writes each interval's file into every folder as the interval closes (a thread)."""

    # Written a moment after the boundary, as a real report job would run.
    GRACE = td(seconds=2)

    def __init__(
        self,
        folders: Iterable[Path | str],
        traffic: Traffic,
        faults: FaultBoard,
        clock: Callable[[], datetime],
    ) -> None:
        self.folders = [Path(f) for f in folders]
        self.traffic = traffic
        self.faults = faults
        self.clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_written: datetime | None = None

    def tick(self, now: datetime | None = None) -> list[Path]:
        """Write the files due at `now`: the last closed interval, and any missed since the last tick."""
        now = now or self.clock()
        latest = slot_start(now) - SLOT
        first = latest if self.last_written is None else self.last_written + SLOT
        written: list[Path] = []
        interval = first
        while interval <= latest:
            if self.faults.is_set(VENDOR, "missing_file"):
                log.info("sandbox: missing_file fault set, skipping %s", file_name(interval))
            else:
                for folder in self.folders:
                    try:
                        written.append(write_interval(folder, self.traffic, interval))
                    except OSError as exc:
                        name = file_name(interval)
                        log.warning("sandbox: could not write %s into %s: %s", name, folder, exc)
            interval += SLOT
        self.last_written = max(latest, self.last_written or latest)
        return written

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        if self.last_written is None:  # the caller backfills what came before (`backfill`)
            self.last_written = slot_start(self.clock()) - SLOT
        self._thread = threading.Thread(target=self._run, name="sandbox-drop", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self.clock()
            wake = slot_start(now) + SLOT + self.GRACE
            if self._stop.wait(max(0.5, min((wake - now).total_seconds(), 60.0))):
                return
            if self.clock() >= wake:
                self.tick()
