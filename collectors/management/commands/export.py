"""`manage.py export volume|agent-states|agents|queues [filters] [--format csv|json]`.

Streams the neutral data to stdout row by row (a server-side cursor on PostgreSQL, never
the whole table in memory). Timestamps are UTC ISO 8601 with a `Z`. JSON is one array,
written as it goes, naming a connection by its key (`tenant-slug/name`). CSV cells a
spreadsheet would run as formulas are neutralised (`spreadsheet_safe`); JSON carries the
values exactly as stored. A reader that stops early (`| head`) ends the export quietly.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime

from django.core.management.base import CommandError, CommandParser
from django.db.models import Q

from collectors.management.commands.collect import parse_time
from collectors.models import Agent, AgentQueue, AgentStateEvent, IntervalVolume, Queue
from collectors.spreadsheet import spreadsheet_safe
from collectors.windows import INTERVAL
from integrations.cli import JsonCommand
from integrations.models import Tenant, VendorConnection

CHUNK = 2000
COMMON = ("tenant", "connection", "vendor")
COLUMNS = {
    "volume": (
        *COMMON,
        "queue_id",
        "queue_name",
        "interval_start",
        "interval_end",
        "entered",
        "abandoned",
        "handle_seconds",
        "collected_at",
    ),
    "agent-states": (
        *COMMON,
        "agent_id",
        "agent_name",
        "state",
        "raw_code",
        "raw_label",
        "reason_code",
        "start",
        "end",
    ),
    "agents": (*COMMON, "agent_id", "name", "group", "active", "queues", "first_seen", "last_seen"),
    "queues": (*COMMON, "queue_id", "name", "active", "first_seen", "last_seen"),
}


def iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt else None


class Command(JsonCommand):
    help = "Export neutral data (volume, agent-states, agents, queues) as CSV or JSON, streamed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("what", help="volume, agent-states, agents or queues")
        parser.add_argument("--tenant", help="tenant slug")
        parser.add_argument("--connection", help="tenant-slug/connection-name")
        parser.add_argument("--start", help="from this time (ISO 8601, UTC); volume and agent-states")
        parser.add_argument("--end", help="until this time, exclusive (ISO 8601, UTC)")
        parser.add_argument("--format", default="csv", help="csv (default) or json")
        parser.add_argument("--json", action="store_true", help="same as --format json")

    def handle(self, *args: object, **options: object) -> None:
        what = str(options["what"]).replace("_", "-")
        if what not in COLUMNS:
            raise CommandError(f"unknown export {what!r}; use one of {', '.join(COLUMNS)}", returncode=2)
        fmt = "json" if options["json"] else str(options["format"])
        if fmt not in ("csv", "json"):
            raise CommandError(f"unknown format {fmt!r}; use csv or json", returncode=2)
        start = parse_time(str(options["start"]), "--start") if options["start"] else None
        end = parse_time(str(options["end"]), "--end") if options["end"] else None
        if start and end and end <= start:
            raise CommandError("--end must be after --start", returncode=2)
        scope = Q()
        if options["tenant"]:
            if not Tenant.objects.filter(slug=options["tenant"]).exists():
                raise CommandError(f"no tenant {options['tenant']!r}", returncode=2)
            scope &= Q(connection__tenant__slug=options["tenant"])
        if options["connection"]:
            try:
                conn = VendorConnection.objects.get_by_key(str(options["connection"]))
            except VendorConnection.DoesNotExist as exc:
                raise CommandError(str(exc), returncode=2) from None
            scope &= Q(connection=conn)
        rows = getattr(self, "rows_" + what.replace("-", "_"))(scope, start, end)
        try:
            if fmt == "csv":
                self.write_csv(COLUMNS[what], rows)
            else:
                self.write_json_rows(COLUMNS[what], rows)
            self.stdout.flush()
        except BrokenPipeError:
            # The reader stopped early (`export ... | head`): that is the reader's choice, not an
            # error. Point the descriptor at /dev/null so the final flush at exit has nothing to
            # fail on and no traceback is printed.
            self.silence_stdout()

    def silence_stdout(self) -> None:
        fileno = getattr(getattr(self.stdout, "_out", None), "fileno", None)
        try:
            fd = fileno() if fileno is not None else None
        except (OSError, ValueError):  # a StringIO, or a stream already closed
            fd = None
        if fd is None:
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)

    # --- output --------------------------------------------------------------------------
    def write_csv(self, columns: tuple[str, ...], rows: Iterator[tuple]) -> None:
        # Every text cell quoted (OWASP's advice too): a CR inside a name would otherwise be
        # written bare, since only the line terminator's characters trigger minimal quoting.
        csv.writer(self.stdout, lineterminator="\n").writerow(columns)
        writer = csv.writer(self.stdout, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
        for row in rows:
            writer.writerow([spreadsheet_safe(v) for v in row])

    def write_json_rows(self, columns: tuple[str, ...], rows: Iterator[tuple]) -> None:
        self.stdout.write("[", ending="")
        sep = "\n"
        for row in rows:
            item = dict(zip(columns, row, strict=True))
            # Every command's JSON names a connection by its key; CSV keeps the bare name.
            item["connection"] = f"{item['tenant']}/{item['connection']}"
            self.stdout.write(sep + json.dumps(item), ending="")
            sep = ",\n"
        self.stdout.write("\n]" if sep != "\n" else "]")

    # --- queries (values_list + iterator: one chunk in memory at a time) -----------------
    def rows_volume(self, scope: Q, start: datetime | None, end: datetime | None) -> Iterator[tuple]:
        qs = IntervalVolume.objects.filter(scope)
        if start:
            qs = qs.filter(interval_start__gte=start)
        if end:
            qs = qs.filter(interval_start__lt=end)
        qs = qs.order_by("connection__tenant__slug", "connection__name", "interval_start", "queue__vendor_id")
        for r in qs.values_list(
            "connection__tenant__slug",
            "connection__name",
            "connection__vendor",
            "queue__vendor_id",
            "queue__name",
            "interval_start",
            "entered",
            "abandoned",
            "handle_seconds",
            "collected_at",
        ).iterator(chunk_size=CHUNK):
            yield (*r[:5], iso(r[5]), iso(r[5] + INTERVAL), r[6], r[7], r[8], iso(r[9]))

    def rows_agent_states(self, scope: Q, start: datetime | None, end: datetime | None) -> Iterator[tuple]:
        qs = AgentStateEvent.objects.filter(scope)
        # Events that overlap [start, end): an open event (no end yet) overlaps anything after it began.
        if start:
            qs = qs.filter(Q(end__isnull=True) | Q(end__gt=start))
        if end:
            qs = qs.filter(start__lt=end)
        qs = qs.order_by("connection__tenant__slug", "connection__name", "start", "agent__vendor_id")
        for r in qs.values_list(
            "connection__tenant__slug",
            "connection__name",
            "connection__vendor",
            "agent__vendor_id",
            "agent__name",
            "state",
            "raw_code",
            "raw_label",
            "reason_code",
            "start",
            "end",
        ).iterator(chunk_size=CHUNK):
            yield (*r[:9], iso(r[9]), iso(r[10]))

    def rows_agents(self, scope: Q, start: datetime | None, end: datetime | None) -> Iterator[tuple]:
        qs = Agent.objects.filter(scope).order_by("connection__tenant__slug", "connection__name", "vendor_id")
        rows = qs.values_list(
            "id",
            "connection__tenant__slug",
            "connection__name",
            "connection__vendor",
            "vendor_id",
            "name",
            "group",
            "active",
            "first_seen",
            "last_seen",
        ).iterator(chunk_size=CHUNK)
        chunk: list[tuple] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                yield from self._with_queues(chunk)
                chunk = []
        yield from self._with_queues(chunk)

    @staticmethod
    def _with_queues(chunk: list[tuple]) -> Iterator[tuple]:
        """Active memberships of a chunk of agents, in one query per chunk."""
        queues: dict[int, list[str]] = {}
        memberships = (
            AgentQueue.objects.filter(agent_id__in=[r[0] for r in chunk], active=True)
            .order_by("queue__vendor_id")
            .values_list("agent_id", "queue__vendor_id")
        )
        for agent_id, queue in memberships if chunk else ():
            queues.setdefault(agent_id, []).append(queue)
        for r in chunk:
            yield (*r[1:8], ";".join(queues.get(r[0], [])), iso(r[8]), iso(r[9]))

    def rows_queues(self, scope: Q, start: datetime | None, end: datetime | None) -> Iterator[tuple]:
        qs = Queue.objects.filter(scope).order_by("connection__tenant__slug", "connection__name", "vendor_id")
        for r in qs.values_list(
            "connection__tenant__slug",
            "connection__name",
            "connection__vendor",
            "vendor_id",
            "name",
            "active",
            "first_seen",
            "last_seen",
        ).iterator(chunk_size=CHUNK):
            yield (*r[:6], iso(r[6]), iso(r[7]))
