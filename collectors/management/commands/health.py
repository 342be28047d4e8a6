"""`manage.py health [--json]`: every stream's status; exit status 1 when anything is down."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from collectors import board, health
from collectors.models import CollectionSchedule
from collectors.streams import all_streams, find_stream, stream_by_name
from integrations.cli import JsonCommand
from integrations.models import Tenant, VendorConnection


class Command(JsonCommand):
    help = "Every stream's health: status, last success, last error, next run, gaps. Exit 1 when any is down."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="one JSON object: streams and a summary")
        parser.add_argument("--tenant", help="only this tenant (slug)")
        parser.add_argument("--evaluate", action="store_true", help="run the status evaluation first")
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--pause", nargs=2, metavar=("CONN", "STREAM"), help="pause a stream")
        group.add_argument("--resume", nargs=2, metavar=("CONN", "STREAM"), help="resume a paused stream")

    def schedule(self, conn_key: str, stream: str) -> CollectionSchedule:
        try:
            conn = VendorConnection.objects.get_by_key(conn_key)
        except VendorConnection.DoesNotExist as exc:
            raise CommandError(str(exc), returncode=2) from None
        declared = stream_by_name(stream)
        if declared is None:
            names = ", ".join(s.command_name for s in all_streams())
            raise CommandError(f"unknown stream {stream!r}; use one of {names}", returncode=2)
        try:
            return CollectionSchedule.objects.get(connection=conn, stream=declared.key)
        except CollectionSchedule.DoesNotExist:
            raise CommandError(f"{conn.key} has no {declared.command_name} stream", returncode=2) from None

    def handle(self, *args: Any, **options: Any) -> None:
        if options["pause"] or options["resume"]:
            action = "pause" if options["pause"] else "resume"
            schedule = self.schedule(*(options["pause"] or options["resume"]))
            flip = getattr(health, action)(schedule, "manage.py health")
            done = {"pause": "paused", "resume": "resumed"}[action]
            if options["json"]:
                schedule.refresh_from_db()
                declared = stream_by_name(schedule.stream)
                self.write_json(
                    {
                        "connection": schedule.connection.key,
                        "stream": declared.command_name if declared else schedule.stream,
                        "action": action,
                        "changed": bool(flip),
                        "enabled": schedule.enabled,
                        "status": schedule.status,
                    }
                )
                return
            self.stdout.write(
                f"{schedule}: {done}" if flip else f"{schedule}: nothing to do (already {done})"
            )
            return
        connections = VendorConnection.objects.all()
        if options["tenant"]:
            if not Tenant.objects.filter(slug=options["tenant"]).exists():
                raise CommandError(f"no tenant {options['tenant']!r}", returncode=2)
            connections = connections.filter(tenant__slug=options["tenant"])
        if options["evaluate"]:
            health.evaluate_all(queryset=CollectionSchedule.objects.filter(connection__in=connections))
        rows = board.build(connections)
        down = [r for r in rows if r.down]
        if options["json"]:
            out = {"streams": [r.as_dict() for r in rows], "summary": board.summary(rows), "down": len(down)}
            self.write_json(out)
        else:
            self.stdout.write(self.table(rows))
        if down:
            raise CommandError(f"{len(down)} stream(s) down", returncode=1)

    def table(self, rows: list[board.StreamRow]) -> str:
        def when(d: Any) -> str:
            return d.strftime("%Y-%m-%d %H:%M") if d else "-"

        head = (
            "CONNECTION",
            "STREAM",
            "STATUS",
            "LAST SUCCESS",
            "NEXT RUN",
            "FAILS",
            "GAPS",
            "LAST ERROR / NOTE",
        )
        lines = [head]
        for r in rows:
            s = r.schedule
            note = r.last_error or s.status_reason
            if r.token_warning:
                note = f"{r.token_warning}; {note}" if note else r.token_warning
            lines.append(
                (
                    r.connection.key,
                    declared.command_name if (declared := find_stream(s.stream)) else s.stream,
                    s.status,
                    when(s.last_success_at),
                    when(s.next_run_at) if s.enabled else "paused",
                    str(s.consecutive_failures),
                    "-" if r.gaps is None else str(r.gaps),
                    " ".join(note.split())[:80],
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
        return "\n".join(
            "  ".join(cell.ljust(w) for cell, w in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
            for line in lines
        )
