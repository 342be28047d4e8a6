"""What goes on the wire for each endpoint kind, rendered from one event payload.

- webhook: the payload as JSON plus a one-line `summary`, signed (`sign`);
- slack: an incoming-webhook message, `text` (the notification fallback) and blocks;
- teams: a Workflows ("When a Teams webhook request is received") message carrying one
  Adaptive Card attachment.
The formats are documented in docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from notifications.models import (
    STREAM_DOWN,
    STREAM_PAUSED,
    STREAM_RECOVERED,
    TEST,
    TOKEN_EXPIRED,
    TOKEN_REMINDER,
    Endpoint,
)

SIGNATURE_HEADER = "X-Switchboard-Signature"
TIMESTAMP_HEADER = "X-Switchboard-Timestamp"
USER_AGENT = "Switchboard-Webhooks/1"
TITLES = {
    STREAM_DOWN: "Stream down",
    STREAM_RECOVERED: "Stream recovered",
    STREAM_PAUSED: "Stream paused",
    TOKEN_REMINDER: "Access token expires soon",
    TOKEN_EXPIRED: "Access token expired",
    TEST: "Test event",
}


def _days(n: int) -> str:
    return f"{n} day" if abs(n) == 1 else f"{n} days"


def summary(payload: dict[str, Any]) -> str:
    """One line a person can act on (Slack's notification text, the card's body)."""
    kind, data = payload["type"], payload.get("data") or {}
    where = (payload.get("connection") or {}).get("key") or payload["tenant"]["slug"]
    if kind in (STREAM_DOWN, STREAM_RECOVERED, STREAM_PAUSED):
        stream = data.get("stream_label") or data.get("stream", "")
        state = {STREAM_DOWN: f"is down ({data.get('new_status')})", STREAM_RECOVERED: "recovered"}.get(
            kind, "is paused"
        )
        reason = f": {data['reason']}" if data.get("reason") and kind != STREAM_RECOVERED else ""
        return f"{where} · {stream} {state}{reason}"
    if kind in (TOKEN_REMINDER, TOKEN_EXPIRED):
        login = data.get("service_login") or data.get("section", "")
        left = int(data.get("days_left", 0))
        if left < 0:
            when = f"expired {_days(-left)} ago (on {data.get('expires')})"
        elif left == 0:
            when = "expires today"
        else:
            when = f"expires in {_days(left)} (on {data.get('expires')})"
        return f"{where} · access token {login} {when}"
    return f"{where} · test event from Switchboard: this endpoint receives notifications"


def webhook_body(payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "summary": summary(payload)}


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn reserves these three; everything else is literal.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    text = summary(payload)
    title = TITLES.get(payload["type"], payload["type"])
    link = (payload.get("data") or {}).get("url")
    context = f"{_slack_escape(payload['tenant']['name'])} · `{payload['type']}`"
    if link:
        context += f" · <{link}|Open in Switchboard>"
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title}},
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
        ],
    }


def teams_body(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("data") or {}
    facts = [{"title": "Tenant", "value": payload["tenant"]["name"]}]
    if payload.get("connection"):
        facts.append({"title": "Connection", "value": payload["connection"]["key"]})
    facts.append({"title": "Event", "value": payload["type"]})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": TITLES.get(payload["type"], payload["type"]),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
            },
            {"type": "TextBlock", "text": summary(payload), "wrap": True},
            {"type": "FactSet", "facts": facts},
        ],
    }
    if data.get("url"):
        card["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Switchboard", "url": data["url"]}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


BODIES = {Endpoint.WEBHOOK: webhook_body, Endpoint.SLACK: slack_body, Endpoint.TEAMS: teams_body}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `timestamp + "." + body` under the endpoint's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def render(endpoint: Endpoint, payload: dict[str, Any], timestamp: int) -> tuple[bytes, dict[str, str]]:
    """The request body and headers for one endpoint."""
    body = json.dumps(BODIES[endpoint.kind](payload), separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT}
    if endpoint.kind == Endpoint.WEBHOOK:
        ts = str(timestamp)
        headers.update(
            {
                "X-Switchboard-Event": payload["type"],
                "X-Switchboard-Delivery": payload["id"],
                TIMESTAMP_HEADER: ts,
                SIGNATURE_HEADER: sign(endpoint.secret, ts, body),
            }
        )
    return body, headers
