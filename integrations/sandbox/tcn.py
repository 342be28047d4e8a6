"""TCN's platform API ("backoffice" functions), as the seed's API guide documents them.

`POST /tcn/backoffice/<AccessName>` with form fields. The guide predates access tokens: it shows
`username`/`password` or `apiKey`/`clientSid`; this sandbox takes the access token as
`Authorization: Bearer <token>` or as the `apiKey` field. Failures are HTTP 400 with the guide's
text bodies (its Appendix-style return-value tables).
"""

from __future__ import annotations

import csv
import io
import secrets

from integrations.sandbox.faults import FaultBoard
from integrations.sandbox.traffic import (
    AVAILABLE,
    BREAK,
    BUSY,
    LOGGED_OUT,
    LOGIN,
    LUNCH,
    NO_ANSWER,
    OFFERED,
    OFFLINE,
    WRAP,
    Queue,
    Roster,
    Traffic,
    agents,
)
from integrations.sandbox.vendors import HTTP_FAULTS, Credential, SandboxVendor
from integrations.sandbox.web import Request, Response, json_response, text_response

VENDOR = "tcn"
INVALID_LOGIN = "Invalid Login Information!"
BAD_REQUEST = "HTTPS Status 400: Bad Request!"
# The groups of the Agent Status answer (guide §47), in the order it lists them.
GROUPS = ("pausedAgents", "wrapUpAgents", "readyAgents", "onCallAgents", "otherStatusAgents")
# The guide gives no columns for the agent list CSV (§43); these are the agent fields of §46.
AGENT_LIST_HEADER = (
    "agentSid",
    "firstName",
    "lastName",
    "webLogin",
    "huntGroupSid",
    "huntGroupName",
    "partnerAgentId",
)


class TCN:
    def __init__(self, traffic: Traffic, token: str, faults: FaultBoard) -> None:
        self.traffic = traffic
        self.token = token
        self.faults = faults

    def handle(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/backoffice/"):
            return text_response(BAD_REQUEST, 400)
        function = request.path.removeprefix("/backoffice/").strip("/")
        handler = {
            "RemoteAgentList": self.agent_list,
            "RemoteAgentSkillsList": self.skills_list,
            "AgentSummary": self.agent_summary,
        }.get(function)
        if handler is None:
            return text_response(BAD_REQUEST, 400)
        if not self._authorized(request):
            return text_response(INVALID_LOGIN, 400)
        return handler(request)

    def _authorized(self, request: Request) -> bool:
        if self.faults.is_set(VENDOR, "invalid_token") or self.faults.is_set(VENDOR, "expired_token"):
            return False
        scheme, _, value = request.header("Authorization").partition(" ")
        given = value.strip() if scheme.lower() == "bearer" else request.form.get("apiKey", "")
        return bool(given) and secrets.compare_digest(given, self.token)

    def agent_list(self, request: Request) -> Response:
        names = {q.sid: q.name for q in self.traffic.queues(VENDOR)}
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(AGENT_LIST_HEADER)
        for agent in self.traffic.agents(VENDOR):
            group = names[agent.group]
            writer.writerow(
                (agent.id, agent.first_name, agent.last_name, agent.login, agent.group, group, "")
            )
        return text_response(out.getvalue(), content_type="text/csv; charset=utf-8")

    def skills_list(self, request: Request) -> Response:
        names = [q.name for q in self.traffic.queues(VENDOR)]
        if not names:
            return text_response("There are no agent skills.")
        return text_response("Agent Skills: " + ", ".join(names))

    def agent_summary(self, request: Request) -> Response:
        groups: dict[str, list[dict[str, str]]] = {name: [] for name in GROUPS}
        for agent in self.traffic.agents(VENDOR):
            group = self.traffic.agent_state_at(VENDOR, agent.id, request.now).code
            if group is None:  # logged out: listed nowhere
                continue
            groups[str(group)].append(
                {
                    "agentSid": agent.id,
                    "firstName": agent.first_name,
                    "lastName": agent.last_name,
                    "webLogin": agent.login,
                }
            )
        detail: dict[str, object] = dict(groups)
        detail["totalLoggedInAgents"] = sum(len(v) for v in groups.values())
        return json_response({"resultDetail": detail})


_QUEUES = (
    Queue("Sales", "Sales", 7.0, sid="501"),
    Queue("Service", "Service", 10.0, sid="502"),
    Queue("Collections", "Collections", 4.0, sid="503"),
)

SANDBOX = SandboxVendor(
    key=VENDOR,
    base_path="/tcn/backoffice/",
    app=lambda traffic, faults, creds, _lifetime: TCN(traffic, creds["access_token"], faults),
    # Agent sids from 1001; an agent's group is its primary hunt group's sid.
    roster=Roster(_QUEUES, agents(VENDOR, 10, _QUEUES, 15, ids=lambda i, _login, q: (str(1001 + i), q.sid))),
    # The AgentSummary group an agent is listed in; None: listed nowhere (logged out).
    states={
        LOGIN: "otherStatusAgents",
        AVAILABLE: "readyAgents",
        OFFERED: "readyAgents",
        BUSY: "onCallAgents",
        WRAP: "wrapUpAgents",
        NO_ANSWER: "readyAgents",
        BREAK: "pausedAgents",
        LUNCH: "pausedAgents",
        OFFLINE: "otherStatusAgents",
        LOGGED_OUT: None,
    },
    documented_neutral={
        "readyAgents": "available",
        "onCallAgents": "busy",
        "wrapUpAgents": "wrap_up",
        "pausedAgents": "break",
        "otherStatusAgents": "other",
        None: "logged_out",
    },
    credentials=(Credential("access_token", "SANDBOX_TCN_TOKEN", "sandbox-tcn-token"),),
    # The drop writer (integrations.sandbox.drop) skips TCN's files while it is set.
    faults=(*HTTP_FAULTS, "missing_file"),
    # The sandbox serves a day of traffic in a few minutes: poll TCN every minute.
    demo_interval_seconds=60,
    # The demo TCN token expires soon, so reminders and the login banner show at once.
    demo_token=True,
)
