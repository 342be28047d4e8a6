"""`manage.py collect CONN STREAM [--start ISO] [--end ISO] [--json]`: one collection, now.

Runs through the same code as a scheduled run (collectors.runs), under the stream's lease,
so it never overlaps a scheduled run. A window given explicitly backfills that window, in
requests no longer than the vendor allows (`VendorConnection.request_days`), with a progress
bar (rate and time left) on stderr when stderr is a terminal and `--json` is not given.
Exit status: 0 collected, 1 the collection failed (the reason is printed), 2 bad arguments.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import IO, cast

import tqdm
from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from collectors.models import CollectionRun, CollectionSchedule
from collectors.runs import LeaseHeld, run_collection, take_lease
from collectors.schedules import sync_schedules
from collectors.streams import all_streams, find_stream, stream_by_name
from collectors.streams.base import Stream
from collectors.windows import is_on_grid, last_closed_end
from integrations.cli import JsonCommand, iso_z
from integrations.models import VendorConnection


def streams_by_name() -> dict[str, Stream]:
    """The streams a run by hand may collect (those the dispatcher runs), by command-line name."""
    return {s.command_name: s for s in all_streams() if s.dispatched}


def dispatched_stream(name: str) -> Stream | None:
    """The stream named `name` (`agent-states` or `agent_states`) if a run by hand may collect it."""
    stream = stream_by_name(name)
    return stream if stream is not None and stream.dispatched else None


def parse_time(value: str, option: str) -> datetime:
    """An ISO 8601 time; without an offset it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"{option} {value!r} is not an ISO 8601 time", returncode=2) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def run_as_dict(run: CollectionRun) -> dict[str, object]:
    iso = iso_z
    declared = find_stream(run.stream)
    return {
        "connection": run.connection.key,
        "stream": declared.command_name if declared else run.stream,
        "status": run.status,
        "window_start": iso(run.window_start),
        "window_end": iso(run.window_end),
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "rows_created": run.rows_created,
        "rows_updated": run.rows_updated,
        "rows_deactivated": run.rows_deactivated,
        "error": f"{run.error_class}: {run.error_message}" if run.error_class else "",
        "notes": run.notes,
    }


class Command(JsonCommand):
    help = "Run one collection of a connection's stream now (one the dispatcher runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("conn", help="tenant-slug/connection-name")
        parser.add_argument("stream", help=", ".join(streams_by_name()))
        parser.add_argument("--start", help="volume only: start of the window to backfill (ISO 8601, UTC)")
        parser.add_argument("--end", help="volume only: end of the window (ISO 8601, UTC; default: now)")
        parser.add_argument("--json", action="store_true", help="print the run as JSON")

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        stream_arg = str(options["stream"])
        names = streams_by_name()
        found = dispatched_stream(stream_arg)
        if found is None:
            raise CommandError(f"unknown stream {stream_arg!r}; use one of {', '.join(names)}", returncode=2)
        declared = found
        stream = declared.key
        stream_arg = declared.command_name
        try:
            connection = VendorConnection.objects.get_by_key(str(options["conn"]))
        except VendorConnection.DoesNotExist as exc:
            raise CommandError(str(exc), returncode=2) from None
        if stream not in connection.vendor_class.streams:
            raise CommandError(
                f"{connection.vendor_class.label} connections have no {stream_arg} stream", returncode=2
            )
        start = parse_time(str(options["start"]), "--start") if options["start"] else None
        end = parse_time(str(options["end"]), "--end") if options["end"] else None
        explicit = start is not None or end is not None
        if explicit:
            if not declared.backfill:
                backfilled = " or ".join(name for name, s in names.items() if s.backfill)
                raise CommandError(f"--start and --end apply to the {backfilled} stream only", returncode=2)
            if start is None:
                raise CommandError("--end needs --start", returncode=2)
            end = end or last_closed_end(now)
            for name, value in (("--start", start), ("--end", end)):
                if not is_on_grid(value):
                    raise CommandError(
                        f"{name} {value:%Y-%m-%dT%H:%M:%SZ} is not on the 15-minute grid", returncode=2
                    )
            if start > now:
                raise CommandError(f"--start {start:%Y-%m-%dT%H:%M:%SZ} is in the future", returncode=2)
            if start >= last_closed_end(now):
                raise CommandError(
                    f"--start {start:%Y-%m-%dT%H:%M:%SZ} is not before the end of the last closed "
                    f"interval ({last_closed_end(now):%Y-%m-%dT%H:%M:%SZ})",
                    returncode=2,
                )
            if end <= start:
                raise CommandError("--end must be after --start", returncode=2)
            if end > last_closed_end(now):
                raise CommandError(
                    f"--end {end:%Y-%m-%dT%H:%M:%SZ} is after the last closed interval "
                    f"({last_closed_end(now):%Y-%m-%dT%H:%M:%SZ})",
                    returncode=2,
                )

        sync_schedules(connection, now)
        schedule = CollectionSchedule.objects.get(connection=connection, stream=stream)
        try:
            lease_id = take_lease(schedule, now)
        except LeaseHeld as exc:
            raise CommandError(str(exc), returncode=1) from None
        show = explicit and not options["json"] and self.stderr.isatty()
        # The bar writes to the stream itself: the wrapper would end every redraw with a newline.
        terminal = cast("IO[str]", self.stderr._out) if show else None
        with progress_bar(terminal, f"{connection.key} {stream_arg}") as progress:
            result = run_collection(
                schedule,
                window_start=start,
                window_end=end,
                explicit=explicit,
                task_id=f"manual:{connection.key}:{stream}",
                lease_id=lease_id,
                # A run by hand reports a transient failure instead of waiting to retry.
                attempt=10**6,
                now=now,
                progress=progress,
            )
        run = result.run
        if run is None:
            raise CommandError(result.skipped, returncode=1)
        if options["json"]:
            self.write_json(run_as_dict(run))
        else:
            self.stdout.write(
                f"{connection.key} {stream_arg}: {run.status}, {run.rows_created} created, "
                f"{run.rows_updated} updated, {run.rows_deactivated} deactivated"
                + (f"\n{run.notes}" if run.notes else "")
            )
        if run.status != CollectionRun.OK:
            raise CommandError(
                f"{stream_arg} collection failed: {run.error_class}: {run.error_message}", returncode=1
            )


@contextlib.contextmanager
def progress_bar(stream: IO[str] | None, label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A tqdm bar on `stream` fed (intervals done, intervals in all); nothing without a stream."""
    if stream is None:
        yield None
        return
    bar: tqdm.tqdm | None = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm.tqdm(total=total, desc=label, unit=" intervals", file=stream, dynamic_ncols=True)
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        if bar is not None:
            bar.close()
