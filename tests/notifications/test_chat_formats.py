"""Slack and Teams endpoints get the formats their documentation gives; redirects are not followed."""

from __future__ import annotations

from notifications import events
from notifications.models import STREAM_DOWN, TOKEN_REMINDER, Delivery, Endpoint
from notifications.webhooks import send_due
from tests.notifications.conftest import make_endpoint
from tests.notifications.hookserver import Reply

DOWN = {
    "stream": "agent_states",
    "stream_label": "Agent states",
    "old_status": "ok",
    "new_status": "auth_failed",
    "reason": "the vendor refused the credentials (<401> & more)",
    "url": "http://sb.example/health/stream/3/",
}


def test_slack_gets_text_and_blocks_with_mrkdwn_escaped(hooks, tenant_a, conn_a):
    make_endpoint(tenant_a, hooks.url(), kind=Endpoint.SLACK)
    events.publish(tenant_a, STREAM_DOWN, DOWN, conn_a, key="flip:1")
    assert send_due() == {"sent": 1}
    (req,) = hooks.received
    assert req.headers["Content-Type"].startswith("application/json")
    assert "X-Switchboard-Signature" not in req.headers
    body = req.json()
    assert set(body) == {"text", "blocks"}
    summary = "acme/tcn-main · Agent states is down (auth_failed): the vendor refused the credentials"
    assert body["text"] == summary + " (<401> & more)"
    header, section, context = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "Stream down"}}
    assert section == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": summary + " (&lt;401&gt; &amp; more)"},
    }
    assert context["type"] == "context"
    assert context["elements"] == [
        {
            "type": "mrkdwn",
            "text": "Acme Support · `stream.down` · <http://sb.example/health/stream/3/|Open in Switchboard>",
        }
    ]


def test_teams_gets_a_message_with_one_adaptive_card(hooks, tenant_a, conn_a):
    make_endpoint(tenant_a, hooks.url(), kind=Endpoint.TEAMS)
    data = {"service_login": "3rd_WFM_Acme_jdoe", "section": "realtime", "expires": "2026-12-10"}
    data |= {"days_left": 10, "stage": "d10", "url": "http://sb.example/admin/tokens/accesstoken/4/change/"}
    events.publish(tenant_a, TOKEN_REMINDER, data, conn_a, key="alert:1")
    assert send_due() == {"sent": 1}
    (req,) = hooks.received
    assert "X-Switchboard-Signature" not in req.headers
    body = req.json()
    assert body["type"] == "message"
    (attachment,) = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["version"] == "1.4"
    title, text, facts = card["body"]
    assert title["type"] == "TextBlock" and title["text"] == "Access token expires soon"
    assert text == {
        "type": "TextBlock",
        "text": "acme/tcn-main · access token 3rd_WFM_Acme_jdoe expires in 10 days (on 2026-12-10)",
        "wrap": True,
    }
    assert facts["type"] == "FactSet"
    assert {"title": "Connection", "value": "acme/tcn-main"} in facts["facts"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in Switchboard", "url": data["url"]}]


def test_a_redirect_is_not_followed_and_the_delivery_fails(hooks, tenant_a, conn_a):
    make_endpoint(tenant_a, hooks.url("/old"))
    hooks.answer(Reply(302, b"", (("Location", hooks.url("/new")),)))
    events.publish(tenant_a, STREAM_DOWN, DOWN, conn_a, key="flip:1")
    assert send_due() == {"failed": 1}
    assert [r.path for r in hooks.received] == ["/old"]
    delivery = Delivery.objects.get()
    assert delivery.last_status == 302
    assert delivery.last_error == "HTTP 302: a redirect, not followed (enter the final URL)"
