"""A WFM consumer as the docs describe it: store the cursor, call again, upsert by id."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.api.conftest import bearer


def sync(
    client: Any, key: str, resource: str, cursor: str | None, copy: dict[int, dict], **params: Any
) -> tuple[str | None, int]:
    """Pull every page after `cursor` into `copy`; return the new cursor and how many rows came."""
    received = 0
    while True:
        query = {**params, **({"after": cursor} if cursor else {})}
        response = client.get(f"/api/v1/{resource}/", query, **bearer(key))
        assert response.status_code == 200, response.content
        body = response.json()
        for row in body["results"]:
            copy[row["id"]] = row
        received += len(body["results"])
        cursor = body["next"] or cursor
        if not body["has_more"]:
            return cursor, received


def sync_csv(
    client: Any, key: str, resource: str, cursor: str | None, copy: dict[int, dict]
) -> tuple[str, int]:
    query = {"format": "csv", **({"after": cursor} if cursor else {})}
    response = client.get(f"/api/v1/{resource}/", query, **bearer(key))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    for row in rows:
        copy[int(row["id"])] = row
    return response.get("X-Next-Cursor", cursor), len(rows)
