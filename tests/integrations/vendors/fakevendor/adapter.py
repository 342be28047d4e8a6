"""Fakeline's JSON to neutral records: `GET queues`, `GET agents`, `GET intervals?start=&end=`,
each with `Authorization: Bearer <token>`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urljoin

from integrations.vendors import base
from integrations.vendors.errors import AuthError, DataError
from integrations.vendors.grid import require_on_grid
from integrations.vendors.http import HttpClient
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    MembershipRecord,
    QueueRecord,
    StateSnapshot,
)

NEUTRAL = {
    "ready": "available",
    "ringing": "offered",
    "talking": "busy",
    "acw": "wrap_up",
    "away": "break",
    "admin": "work_offline",
    "offline": "logged_out",
}


class FakeClient(HttpClient):
    vendor_label = "Fakeline"

    def __init__(self, section: base.Section) -> None:
        super().__init__()
        if not section.values.get("token"):
            raise AuthError("Fakeline: the connection has no token")
        self.base_url = section.base_url if section.base_url.endswith("/") else section.base_url + "/"
        self.session.headers["Authorization"] = f"Bearer {section.values['token']}"

    def get(self, path: str, **params: str) -> Any:
        return self.json(self.request("GET", urljoin(self.base_url, path), params=params))


def _time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise DataError(f"Fakeline: {text!r} is not an ISO 8601 time") from None


class FakeAdapter(base.Adapter):
    def check(self) -> list[str]:
        queues = FakeClient(self.settings.realtime).get("queues")["queues"]
        return [f"Fakeline queue list: {len(queues)} queue(s)"]

    def fetch_config(self) -> ConfigSnapshot:
        client = FakeClient(self.settings.realtime)
        snapshot = ConfigSnapshot()
        for queue in client.get("queues")["queues"]:
            snapshot.queues.append(QueueRecord(queue["id"], queue["name"]))
        for agent in client.get("agents")["agents"]:
            snapshot.agents.append(AgentRecord(agent["id"], agent["name"]))
            snapshot.memberships.extend(MembershipRecord(agent["id"], q) for q in agent["queues"])
        return snapshot

    def fetch_agent_states(self, now: datetime) -> StateSnapshot:
        snapshot = StateSnapshot(observed_at=now)
        for agent in FakeClient(self.settings.realtime).get("agents")["agents"]:
            code = agent["state"]
            snapshot.agents.append(
                AgentStateRecord(
                    agent_vendor_id=agent["id"],
                    state=self.settings.state_map.get(code) or NEUTRAL.get(code, "other"),
                    raw_code=code,
                    agent_name=agent["name"],
                    since=_time(agent["since"]),
                )
            )
        return snapshot

    def fetch_volume(self, start: datetime, end: datetime) -> list[IntervalRecord]:
        client = FakeClient(self.settings.history)
        rows = client.get("intervals", start=start.isoformat(), end=end.isoformat())["intervals"]
        records = []
        for row in rows:
            try:
                interval_start = require_on_grid(_time(row["start"]))
            except ValueError as exc:
                raise DataError(f"Fakeline interval: {exc}") from None
            records.append(
                IntervalRecord(
                    queue_vendor_id=row["queue"],
                    interval_start=interval_start,
                    entered=row["entered"],
                    abandoned=row["abandoned"],
                    handle_seconds=row["handle"],
                    queue_name=row["queue_name"],
                )
            )
        return records
