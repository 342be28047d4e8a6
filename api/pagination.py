"""Keyset pagination for every list: a cursor, never an offset; stable order; capped pages.

Change-ordered resources (intervals, state events, agents, queues) page by change position
(see api.changes); the others by id. The envelope is the same: `results`, `next` (the
cursor to send as `after` next time, also when this page was empty) and `has_more`.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response

from api import changes
from api.conf import app_settings

CHANGE_FIELDS = changes.CHANGE_FIELDS
ID_FIELDS = ("pk",)


def page_limit(request: Any) -> int:
    raw = request.query_params.get("limit")
    if raw in (None, ""):
        return app_settings.PAGE_SIZE
    try:
        limit = int(raw)
    except ValueError:
        raise ValidationError({"limit": f"{raw!r} is not a whole number"}) from None
    if not 1 <= limit <= app_settings.MAX_PAGE_SIZE:
        raise ValidationError({"limit": f"must be between 1 and {app_settings.MAX_PAGE_SIZE}"})
    return limit


class KeysetPagination(BasePagination):
    def fields_of(self, view: Any) -> tuple[str, ...]:
        return CHANGE_FIELDS if getattr(view, "change_ordered", False) else ID_FIELDS

    def start(self, queryset: Any, request: Any, view: Any) -> tuple[Any, tuple[int, ...] | None]:
        """The cursor's position, and the queryset: in key order after it (by id), or visible
        rows (by change, which `changes.page` reads from the position on)."""
        fields = self.fields_of(view)
        self.fields = fields
        self.now = timezone.now()
        raw = request.query_params.get("after")
        position = None
        if raw:
            cursor = changes.Cursor.decode(raw, len(fields))
            if fields == CHANGE_FIELDS and cursor.issued < changes.oldest_valid_cursor(
                queryset.model, self.now
            ):
                raise changes.CursorGone()
            position = cursor.position
        if fields == CHANGE_FIELDS:
            return changes.visible(queryset), position
        if position is not None:
            queryset = changes.after(queryset, fields, position)
        return queryset.order_by(*fields), position

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        """A page of model instances, by id (change-ordered resources use `paginate_values`)."""
        assert self.fields_of(view) == ID_FIELDS, "a change-ordered resource pages by values"
        limit = page_limit(request)
        queryset, position = self.start(queryset, request, view)
        rows = list(queryset[: limit + 1])
        self.has_more = len(rows) > limit
        rows = rows[:limit]
        if rows:
            position = tuple(getattr(rows[-1], f) for f in self.fields)
        self.next = changes.Cursor(position, self.now).encode() if position is not None else None
        return rows

    def paginate_values(self, queryset: Any, request: Any, view: Any, lookups: list[str]) -> list[tuple]:
        """A page of plain values (no model instances): the change-ordered resources' path."""
        limit = page_limit(request)
        queryset, position = self.start(queryset, request, view)
        if self.fields == CHANGE_FIELDS:
            rows, position, self.has_more = changes.page(
                queryset, view.connection_ids, lookups, limit, position
            )
            self.next = changes.Cursor(position, self.now).encode() if position is not None else None
            return rows
        width = len(self.fields)
        rows = list(queryset.values_list(*self.fields, *lookups)[: limit + 1])
        self.has_more = len(rows) > limit
        rows = rows[:limit]
        if rows:
            position = tuple(rows[-1][:width])
        self.next = changes.Cursor(position, self.now).encode() if position is not None else None
        return [row[width:] for row in rows]

    def get_paginated_response(self, data: Any) -> Response:
        return Response(OrderedDict([("next", self.next), ("has_more", self.has_more), ("results", data)]))

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["next", "has_more", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "description": "Send as `after` for what follows; null only when nothing was listed yet.",
                },
                "has_more": {"type": "boolean", "description": "True when the next page is not empty."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "after",
                "required": False,
                "in": "query",
                "description": "The `next` cursor of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": "Rows per page (default and maximum are settings).",
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
