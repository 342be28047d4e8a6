"""CSV for the bulk resources, streamed: rows go out page by page, never all in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from rest_framework.renderers import BaseRenderer

from api import changes
from collectors.spreadsheet import spreadsheet_safe

CHUNK = 5000


class CSVRenderer(BaseRenderer):
    """Chosen by `?format=csv` or `Accept: text/csv`; renders only errors (rows are streamed)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        out = _Line()
        writer = csv.writer(out)
        if isinstance(data, dict):
            lines = [writer.writerow(["field", "error"])]
            for key, value in data.items():
                for message in value if isinstance(value, list) else [value]:
                    lines.append(writer.writerow([key, str(message)]))
            return "".join(lines).encode()
        return writer.writerow([str(data)]).encode()


class _Line:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def json_cell(value: Any) -> Any:
    """As DRF writes a value: a time in UTC ISO 8601 with a `Z`."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


def cell(value: Any) -> Any:
    """A CSV cell: times as in JSON, text a spreadsheet would run as a formula neutralised."""
    return spreadsheet_safe(json_cell(value))


def rows(
    qs: QuerySet[Any],
    connection_ids: Sequence[int],
    columns: Sequence[tuple[str, str]],
    position: changes.Position | None,
    end: changes.Position | None,
) -> Iterator[str]:
    """The header, then every row of `qs` after `position` up to `end`, CHUNK rows per step.

    Keyset steps, not one server-side cursor: each query is short, so a slow reader holds
    no transaction open (which on PostgreSQL would hold back every consumer's horizon).
    """
    writer = csv.writer(_Line())
    yield writer.writerow([name for name, _lookup in columns])
    lookups = [lookup for _name, lookup in columns]
    if end is None:
        return
    while True:
        batch, position, more = changes.page(qs, connection_ids, lookups, CHUNK, position, end)
        if batch:
            yield "".join(writer.writerow([cell(v) for v in row]) for row in batch)
        if not more:
            return
