"""TCN payloads to neutral records: agent states and configuration over REST.

TCN has no REST history: contact volume arrives as the 15-minute FTP file (see `files.py`
and `collectors.drops`), so `fetch_volume` is not offered.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from typing import Any

from integrations.scrub import scrub
from integrations.vendors.base import Adapter, ConnectionSettings
from integrations.vendors.errors import DataError
from integrations.vendors.http import excerpt
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    MembershipRecord,
    QueueRecord,
    StateSnapshot,
)
from integrations.vendors.tcn.client import TCNClient
from integrations.vendors.tcn.states import GROUPS, TOTAL_KEY, neutral_state

# Agent columns as the agent fields of guide section 46 name them; matched without case,
# spaces or underscores, first match wins.
ID_KEYS = ("agentsid", "agentid", "sid", "id", "userid", "weblogin", "username")
FIRST_KEYS = ("firstname",)
LAST_KEYS = ("lastname",)
NAME_KEYS = ("agentname", "name", "fullname")
HUNT_GROUP_KEYS = ("huntgroupname", "huntgroup")
HUNT_GROUP_SID_KEYS = ("huntgroupsid",)
SKILLS_KEYS = ("skills", "agentskills", "skill")
LABEL_KEYS = ("statusdesc", "status", "pausecodename", "pausecode", "reason")
REASON_KEYS = ("pausecode", "pausecodename", "reasoncode", "reason")
SKILLS_PREFIX = "agent skills:"
# A column name of the agent list: printable words, nothing a stray byte would bring.
HEADER_CELL = re.compile(r"[A-Za-z][A-Za-z0-9 _.#()/-]*")
NO_SKILLS = "there are no agent skills."


def _norm(key: str) -> str:
    return key.replace("_", "").replace(" ", "").replace("-", "").casefold()


def _pick(row: dict[str, str], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = row.get(key)
        if value not in (None, ""):
            return str(value).strip()
    return ""


class TCNAdapter(Adapter):
    def __init__(self, settings: ConnectionSettings) -> None:
        super().__init__(settings)
        values = settings.realtime.values
        self.client = TCNClient(
            settings.realtime.base_url, values.get("access_token", ""), values.get("client_sid", "")
        )
        self.options = settings.options

    def _path(self, name: str) -> str:
        return str(self.options[name])

    # --- check ------------------------------------------------------------------------
    def check(self) -> list[str]:
        skills = self.fetch_skills()
        checked = [f"access token accepted by {self._path('agent_skills_path')} ({len(skills)} agent skills)"]
        folder = self.settings.history.values.get("drop_folder", "")
        if folder:
            from integrations.vendors.tcn.vendor import resolve_drop_folder

            try:
                path = resolve_drop_folder(folder)
            except ValueError as exc:
                raise DataError(str(exc)) from None
            state = "exists" if path.is_dir() else "does not exist yet (created at the first scan)"
            checked.append(f"drop folder {path} {state}")
        return checked

    # --- configuration ----------------------------------------------------------------
    def fetch_skills(self) -> list[str]:
        """Section 44: `Agent Skills: a, b, c` or `There are no agent skills.`"""
        response = self.client.post(self._path("agent_skills_path"))
        text = response.text.strip()
        if text.casefold() == NO_SKILLS:
            return []
        if not text.casefold().startswith(SKILLS_PREFIX):
            raise DataError(
                f"{self._path('agent_skills_path')}: expected 'Agent Skills: …' or "
                f"'There are no agent skills.', got {excerpt(response).strip()[:80]!r}",
                sample=excerpt(response),
            )
        names = [s.strip() for s in text[len(SKILLS_PREFIX) :].split(",")]
        return list(dict.fromkeys(n for n in names if n))

    def fetch_agent_rows(self) -> list[dict[str, str]]:
        """Section 43: a CSV of agents (its columns are not in the guide; see ID_KEYS).

        Read strictly, because a misread list empties or re-keys the roster: an empty body,
        a header with stray bytes before it, a quote never closed or a row of another width
        than the header (a truncated answer) is a DataError naming what was wrong.
        """
        path = self._path("agent_list_path")
        response = self.client.post(path)
        text = response.text.lstrip("\ufeff")
        if not text.strip():
            raise DataError(f"{path}: empty answer where the agent list (a CSV with its header) was expected")
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        try:
            raw_header = next(reader)
            for number, cell in enumerate(raw_header, 1):
                if not HEADER_CELL.fullmatch(cell.strip()):
                    raise DataError(
                        f"{path}: header cell {number} is {scrub(cell[:80])!r}, not a column name "
                        "(stray bytes before the header?)",
                        sample=excerpt(response),
                    )
            header = [_norm(h) for h in raw_header]
            rows = []
            for row in reader:
                if not any(row):
                    continue
                if len(row) != len(header):
                    raise DataError(
                        f"{path}: line {reader.line_num} has {len(row)} cells but the header has "
                        f"{len(header)} (a truncated or malformed list)",
                        sample=excerpt(response, tail=True),
                    )
                rows.append(dict(zip(header, (c.strip() for c in row), strict=True)))
        except csv.Error as exc:
            raise DataError(
                f"{path}: malformed CSV at line {reader.line_num} ({exc}; a truncated answer?)",
                sample=excerpt(response, tail=True),
            ) from None
        if not any(k in header for k in ID_KEYS):
            raise DataError(
                f"{path}: no agent id column (looked for agentSid, agentId, sid, id, userId, webLogin); "
                f"header is {', '.join(header)[:200]}",
                sample=excerpt(response),
            )
        return rows

    def fetch_config(self) -> ConfigSnapshot:
        skills = self.fetch_skills()
        rows = self.fetch_agent_rows()
        snapshot = ConfigSnapshot(queues=[QueueRecord(vendor_id=s, name=s) for s in skills])
        queue_ids = {s for s in skills}
        has_groups = bool(rows) and any(_pick(r, HUNT_GROUP_KEYS + HUNT_GROUP_SID_KEYS) for r in rows)
        has_skills = bool(rows) and any(k in rows[0] for k in SKILLS_KEYS)
        seen: set[str] = set()
        for row in rows:
            agent_id = _pick(row, ID_KEYS)
            if not agent_id:
                path = self._path("agent_list_path")
                raise DataError(f"{path}: an agent row has no id", sample=scrub(str(row)))
            if agent_id in seen:
                continue
            seen.add(agent_id)
            name = " ".join(p for p in (_pick(row, FIRST_KEYS), _pick(row, LAST_KEYS)) if p)
            group = _pick(row, HUNT_GROUP_KEYS) or _pick(row, HUNT_GROUP_SID_KEYS)
            snapshot.agents.append(
                AgentRecord(vendor_id=agent_id, name=name or _pick(row, NAME_KEYS) or agent_id, group=group)
            )
            if group:
                # The call-volume file names hunt groups, so a hunt group is a queue too.
                if group not in queue_ids:
                    queue_ids.add(group)
                    snapshot.queues.append(QueueRecord(vendor_id=group, name=group))
                snapshot.memberships.append(MembershipRecord(agent_id, group))
            for skill in _split(_pick(row, SKILLS_KEYS)):
                if skill not in queue_ids:
                    queue_ids.add(skill)
                    snapshot.queues.append(QueueRecord(vendor_id=skill, name=skill))
                snapshot.memberships.append(MembershipRecord(agent_id, skill))
        # Without hunt-group or skill columns nothing says who belongs where.
        snapshot.memberships_complete = has_groups or has_skills
        return snapshot

    # --- agent states -----------------------------------------------------------------
    def fetch_agent_states(self, now: datetime) -> StateSnapshot:
        """Section 47: agents grouped by status; an agent in no group is logged out."""
        path = self._path("agent_status_path")
        response = self.client.post(path)
        data = self.client.json(response, f"TCN {path}")
        detail = data.get("resultDetail", data) if isinstance(data, dict) else None
        if isinstance(detail, str):
            try:
                detail = json.loads(detail)
            except ValueError:
                detail = None
        if not isinstance(detail, dict) or not any(k in detail for k in (*GROUPS, TOTAL_KEY)):
            raise DataError(
                f"{path}: no resultDetail with agent groups ({', '.join(GROUPS)})",
                sample=excerpt(response),
            )
        snapshot = StateSnapshot(observed_at=now)
        seen: dict[str, str] = {}
        listed = 0
        for group, (_state, label) in GROUPS.items():
            members = detail.get(group, [])
            if members is None:
                continue
            count = _as_count(members)
            if count is not None:
                snapshot.complete = False
                snapshot.notes.append(
                    f"TCN gave only a count for {group} ({count}): no per-agent events for them, "
                    "and agents missing from the poll were not logged out"
                )
                continue
            if not isinstance(members, list):
                raise DataError(
                    f"{path}: resultDetail.{group} is {type(members).__name__}, expected a list of agents",
                    sample=excerpt(response),
                )
            for item in members:
                record = self._agent_state(group, label, item, path)
                if record.agent_vendor_id in seen:
                    snapshot.notes.append(
                        f"agent {record.agent_vendor_id} is in both {seen[record.agent_vendor_id]} and "
                        f"{group}; kept {seen[record.agent_vendor_id]}"
                    )
                    continue
                seen[record.agent_vendor_id] = group
                snapshot.agents.append(record)
                listed += 1
        total = _as_count(detail.get(TOTAL_KEY))
        if snapshot.complete and total is not None and total != listed:
            snapshot.notes.append(f"{TOTAL_KEY} is {total} but {listed} agents were listed")
        return snapshot

    def _agent_state(self, group: str, label: str, item: Any, path: str) -> AgentStateRecord:
        if isinstance(item, dict):
            row = {_norm(str(k)): v for k, v in item.items() if not isinstance(v, dict | list)}
            agent_id = _pick(row, ID_KEYS)
            name = " ".join(p for p in (_pick(row, FIRST_KEYS), _pick(row, LAST_KEYS)) if p)
            name = name or _pick(row, NAME_KEYS)
            status_label = _pick(row, LABEL_KEYS)
            reason = _pick(row, REASON_KEYS) if group == "pausedAgents" else ""
        elif isinstance(item, str | int) and not isinstance(item, bool):
            agent_id, name, status_label, reason = str(item).strip(), "", "", ""
        else:
            agent_id, name, status_label, reason = "", "", "", ""
        if not agent_id:
            raise DataError(f"{path}: an agent in {group} has no id", sample=scrub(str(item)[:500]))
        return AgentStateRecord(
            agent_vendor_id=agent_id,
            state=neutral_state(group, status_label, self.settings.state_map),
            raw_code=group,
            raw_label=status_label or label,
            reason_code=reason,
            agent_name=name,
        )


def _as_count(value: Any) -> int | None:
    """A bare count where agents were expected (an int or a numeric string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _split(text: str) -> list[str]:
    for sep in ("|", ";"):
        if sep in text:
            return [s.strip() for s in text.split(sep) if s.strip()]
    return [s.strip() for s in text.split(",") if s.strip()]
