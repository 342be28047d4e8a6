from __future__ import annotations

import pytest
import responses

from integrations.vendors.base import ConnectionSettings, Section
from integrations.vendors.errors import DataError
from integrations.vendors.records import MembershipRecord, QueueRecord
from integrations.vendors.tcn.adapter import TCNAdapter
from integrations.vendors.tcn.vendor import TCN

from .tcn_helpers import FIXTURES

BASE = "https://api.tcn3.com/backoffice/"
SKILLS = BASE + "RemoteAgentSkillsList"
AGENTS = BASE + "RemoteAgentList"


def adapter() -> TCNAdapter:
    section = Section(BASE, {"access_token": "tcn-token-0123456789abcdef"})
    return TCNAdapter(
        ConnectionSettings(
            key="acme/tcn", vendor="tcn", realtime=section, history=section, options=dict(TCN.default_options)
        )
    )


@responses.activate
def test_config_has_agents_skills_and_hunt_groups_with_memberships():
    responses.post(SKILLS, body=(FIXTURES / "skills.txt").read_text())
    responses.post(AGENTS, body=(FIXTURES / "agent_list.csv").read_text(), content_type="text/csv")
    config = adapter().fetch_config()
    assert [(a.vendor_id, a.name, a.group) for a in config.agents] == [
        ("1001", "Ada Lovelace", "Sales"),
        ("1002", "Alan Turing", "Service"),
        ("1003", "Grace Hopper", "Sales"),
    ]
    # Skills first; hunt groups with the same name are the same queue.
    assert config.queues == [
        QueueRecord("Sales", "Sales"),
        QueueRecord("Service", "Service"),
        QueueRecord("Collections", "Collections"),
    ]
    assert config.memberships == [
        MembershipRecord("1001", "Sales"),
        MembershipRecord("1002", "Service"),
        MembershipRecord("1003", "Sales"),
    ]
    assert config.memberships_complete is True


@responses.activate
def test_no_skills_and_no_group_columns_means_memberships_are_unknown():
    responses.post(SKILLS, body="There are no agent skills.")
    responses.post(AGENTS, body="agentSid,firstName,lastName\n1,A,B\n")
    config = adapter().fetch_config()
    assert config.queues == []
    assert [a.vendor_id for a in config.agents] == ["1"]
    assert config.memberships_complete is False


@responses.activate
def test_a_skills_column_gives_skill_memberships():
    responses.post(SKILLS, body="Agent Skills: Spanish")
    responses.post(AGENTS, body="agentSid,firstName,lastName,skills\n1,A,B,Spanish|Billing\n")
    config = adapter().fetch_config()
    assert {q.vendor_id for q in config.queues} == {"Spanish", "Billing"}
    assert config.memberships == [MembershipRecord("1", "Spanish"), MembershipRecord("1", "Billing")]


@responses.activate
def test_an_unexpected_skills_body_is_a_data_error():
    responses.post(SKILLS, body="Skills are: a")
    with pytest.raises(DataError, match="expected 'Agent Skills"):
        adapter().fetch_skills()


@responses.activate
def test_an_agent_list_without_an_id_column_names_the_header_it_got():
    responses.post(SKILLS, body="Agent Skills: A")
    responses.post(AGENTS, body="first,last\nA,B\n")
    with pytest.raises(DataError, match=r"no agent id column.*header is first, last"):
        adapter().fetch_config()
