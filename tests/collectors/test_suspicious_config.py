"""A configuration answer that would wipe the roster never does so silently.

The three broken TCN answers seen in the field (an empty 200, a truncated CSV, bytes before
the header) are DataErrors: nothing changes. An answer that parses but would deactivate
more than COLLECT_CONFIG_DEACTIVATE_SHARE (50%) of the active agents or queues is held: the
run fails with the counts, until the same loss repeats on the next run or a manager of the
tenant confirms it in the admin.
"""

from __future__ import annotations

from datetime import timedelta as td

import pytest
import responses
from django.urls import reverse

from collectors.models import Agent, CollectionRun, ConfigHold, Queue
from collectors.runs import run_collection
from tests.collectors.enginekit import T0, schedule_of
from tests.conftest import make_connection

pytestmark = pytest.mark.django_db
BASE = "https://api.tcn3.com/backoffice/"
HEADER = "agentSid,firstName,lastName,webLogin,huntGroupSid,huntGroupName,partnerAgentId\r\n"
AGENTS = [
    (f"10{n:02d}", f"First{n}", f"Last{n}", f"login{n}", "11", "Sales" if n < 8 else "Service")
    for n in range(10)
]


def agent_list(agents=AGENTS) -> str:
    return HEADER + "".join(",".join(a) + ",\r\n" for a in agents)


@pytest.fixture
def tcn(tenant_a):
    return make_connection(tenant_a, "tcn", "tcn-main")


@pytest.fixture
def vendor():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def answer(vendor, body: str, skills: str = "Agent Skills: Sales, Service") -> None:
    vendor.upsert(responses.POST, BASE + "RemoteAgentSkillsList", body=skills)
    vendor.upsert(responses.POST, BASE + "RemoteAgentList", body=body, content_type="text/csv")


def run(conn, now):
    return run_collection(schedule_of(conn, "config"), now=now).run


def roster(conn) -> set[tuple[str, bool]]:
    return set(Agent.objects.filter(connection=conn).values_list("vendor_id", "active"))


@pytest.fixture
def ten_agents(tcn, vendor):
    answer(vendor, agent_list())
    assert run(tcn, T0).status == CollectionRun.OK
    assert roster(tcn) == {(a[0], True) for a in AGENTS}
    return tcn


BROKEN = {
    "empty-200": "",
    "truncated-mid-row": agent_list()[: len(agent_list()) // 3],
    "truncated-in-a-quote": HEADER + '1000,"First0,Last0\r\n',
    "bytes-before-the-header": "\x00\x00\x00" + agent_list(),
}


@pytest.mark.parametrize("body", list(BROKEN.values()), ids=list(BROKEN))
def test_a_broken_agent_list_is_a_data_error_and_the_roster_is_untouched(ten_agents, vendor, body):
    answer(vendor, body)
    failed = run(ten_agents, T0 + td(hours=1))
    assert (failed.status, failed.error_class) == (CollectionRun.FAILED, "DataError")
    assert "RemoteAgentList" in failed.error_message
    assert roster(ten_agents) == {(a[0], True) for a in AGENTS}
    assert Agent.objects.filter(connection=ten_agents).count() == 10


def test_an_answer_dropping_most_agents_is_held_then_applied_when_it_repeats(ten_agents, vendor):
    answer(vendor, agent_list(AGENTS[:3]))  # cut at a row boundary: it parses
    held = run(ten_agents, T0 + td(hours=1))
    assert (held.status, held.error_class) == (CollectionRun.FAILED, "SuspiciousConfig")
    assert "would deactivate 7 of 10 active agents and 0 of 2 active queues" in held.error_message
    assert "nothing was changed" in held.error_message
    assert roster(ten_agents) == {(a[0], True) for a in AGENTS}
    hold = ConfigHold.objects.get(connection=ten_agents)
    assert hold.agents == sorted(a[0] for a in AGENTS[3:])

    applied = run(ten_agents, T0 + td(hours=2))
    assert applied.status == CollectionRun.OK
    assert "repeated" in applied.notes
    assert roster(ten_agents) == {(a[0], a in AGENTS[:3]) for a in AGENTS}
    assert not ConfigHold.objects.exists()


def test_a_less_drastic_suspicious_answer_replaces_the_hold_instead_of_being_applied(ten_agents, vendor):
    answer(vendor, agent_list(AGENTS[:2]))
    run(ten_agents, T0 + td(hours=1))
    answer(vendor, agent_list(AGENTS[:4]))  # drops a1002/a1003 no more: not the same loss
    again = run(ten_agents, T0 + td(hours=2))
    assert again.error_class == "SuspiciousConfig"
    assert "6 of 10 active agents" in again.error_message
    assert ConfigHold.objects.get().agents == sorted(a[0] for a in AGENTS[4:])
    assert roster(ten_agents) == {(a[0], True) for a in AGENTS}


def test_a_normal_answer_clears_a_hold(ten_agents, vendor):
    answer(vendor, agent_list(AGENTS[:1]))
    run(ten_agents, T0 + td(hours=1))
    answer(vendor, agent_list(AGENTS[:9]))
    ok = run(ten_agents, T0 + td(hours=2))
    assert ok.status == CollectionRun.OK
    assert roster(ten_agents) == {(a[0], a in AGENTS[:9]) for a in AGENTS}
    assert not ConfigHold.objects.exists()


def test_queues_count_on_their_own(ten_agents, vendor):
    answer(vendor, agent_list(), skills="Agent Skills: Sales, Service, Billing, Spanish")
    assert run(ten_agents, T0 + td(minutes=30)).status == CollectionRun.OK
    only_sales = [(*a[:5], "Sales") for a in AGENTS]
    answer(vendor, agent_list(only_sales), skills="Agent Skills: Sales")
    held = run(ten_agents, T0 + td(hours=1))
    assert "0 of 10 active agents and 3 of 4 active queues" in held.error_message
    assert Queue.objects.filter(connection=ten_agents, active=True).count() == 4


def test_the_share_is_a_setting(ten_agents, vendor, settings):
    settings.COLLECT_CONFIG_DEACTIVATE_SHARE = 0.8
    answer(vendor, agent_list(AGENTS[:3]))
    assert run(ten_agents, T0 + td(hours=1)).status == CollectionRun.OK


def confirm(client, user, schedule):
    client.force_login(user)
    url = reverse("admin:collectors_collectionschedule_changelist")
    return client.post(url, {"action": "confirm_config_hold", "_selected_action": [schedule.pk]})


def test_a_manager_of_another_tenant_or_a_partner_cannot_confirm_a_hold(
    ten_agents, vendor, client, manager_b, partner_a
):
    answer(vendor, agent_list(AGENTS[:3]))
    run(ten_agents, T0 + td(hours=1))
    schedule = schedule_of(ten_agents, "config")
    for outsider in (manager_b, partner_a):
        confirm(client, outsider, schedule)
        assert ConfigHold.objects.get().confirmed_at is None
    answer(vendor, agent_list(AGENTS[:4]))  # within the hold, which is not confirmed: held again
    assert run(ten_agents, T0 + td(hours=2)).error_class == "SuspiciousConfig"


def test_a_manager_confirms_a_hold_and_the_next_run_applies_it(ten_agents, vendor, client, manager_a):
    answer(vendor, agent_list(AGENTS[:3]))
    run(ten_agents, T0 + td(hours=1))
    schedule = schedule_of(ten_agents, "config")
    response = confirm(client, manager_a, schedule)
    assert response.status_code == 302
    hold = ConfigHold.objects.get()
    assert hold.confirmed_by == manager_a
    assert schedule_of(ten_agents, "config").next_run_at <= hold.confirmed_at  # runs at the next dispatch
    # The vendor meanwhile lists one more of them again: no more drastic than confirmed.
    answer(vendor, agent_list(AGENTS[:4]))
    applied = run(ten_agents, T0 + td(hours=1, minutes=5))
    assert applied.status == CollectionRun.OK
    assert f"confirmed by {manager_a.username}" in applied.notes
    assert roster(ten_agents) == {(a[0], a in AGENTS[:4]) for a in AGENTS}
    assert not ConfigHold.objects.exists()


def test_a_confirmation_covers_only_the_held_loss_and_a_different_answer_is_held_afresh(
    ten_agents, vendor, client, manager_a
):
    answer(vendor, agent_list(AGENTS[:4]))
    run(ten_agents, T0 + td(hours=1))
    confirm(client, manager_a, schedule_of(ten_agents, "config"))
    answer(vendor, agent_list(AGENTS[6:]))  # drops 1000-1005: neither within nor covering the hold
    again = run(ten_agents, T0 + td(hours=2))
    assert again.error_class == "SuspiciousConfig"
    hold = ConfigHold.objects.get()
    assert (hold.agents, hold.confirmed_at) == (sorted(a[0] for a in AGENTS[:6]), None)
    assert roster(ten_agents) == {(a[0], True) for a in AGENTS}
