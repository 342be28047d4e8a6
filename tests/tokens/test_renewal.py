"""Recording a renewal starts a new cycle; the old stages stay as history."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from tokens.models import AccessToken, TokenAlert
from tokens.reminders import run_pass


@pytest.fixture
def token(conn_a):
    return AccessToken.objects.create(connection=conn_a, issued=date(2025, 6, 15), expires=date(2026, 6, 15))


def test_a_renewal_starts_a_new_cycle_and_keeps_the_old_stages(token, manager_a):
    run_pass(today=date(2026, 6, 10))  # d5 of the old expiry
    renewal = token.record_renewal(date(2027, 6, 15), manager_a)
    assert (renewal.old_expires, renewal.new_expires, renewal.recorded_by) == (
        date(2026, 6, 15),
        date(2027, 6, 15),
        manager_a,
    )
    token.refresh_from_db()
    assert token.expires == date(2027, 6, 15)
    run_pass(today=date(2027, 3, 17))  # 90 days before the new expiry
    rows = list(TokenAlert.objects.order_by("created", "pk").values_list("expires", "stage"))
    assert rows == [(date(2026, 6, 15), "d5"), (date(2027, 6, 15), "d90")]


def test_a_renewal_never_touches_the_token_value(token, manager_a):
    before = token.connection.values_of("realtime")["access_token"]
    token.record_renewal(date(2027, 6, 15), manager_a)
    token.connection.refresh_from_db()
    assert token.connection.values_of("realtime")["access_token"] == before
    assert not token.value_changes.exists()


@pytest.mark.parametrize("new", [date(2026, 6, 15), date(2026, 1, 1)])
def test_a_renewal_not_later_than_the_current_expiry_is_refused(token, manager_a, new):
    with pytest.raises(ValidationError) as exc:
        token.record_renewal(new, manager_a)
    assert "must be later than the current expiry 2026-06-15" in str(exc.value)
    token.refresh_from_db()
    assert token.expires == date(2026, 6, 15) and not token.renewals.exists()


def test_an_expiry_moved_earlier_does_not_resend_stages_already_sent(token):
    run_pass(today=date(2026, 5, 16))  # d30 of 2026-06-15
    # Correction: the token really expires a day earlier. Today it has 29 days left:
    # d30 would be the due stage again, but it was already sent for this token.
    AccessToken.objects.filter(pk=token.pk).update(expires=date(2026, 6, 14))
    again = run_pass(today=date(2026, 5, 16))
    assert again.due == []
    run_pass(today=date(2026, 5, 24))  # 21 days before the corrected expiry
    assert list(TokenAlert.objects.order_by("created", "pk").values_list("stage", flat=True)) == ["d30", "w3"]


def test_replacing_the_value_is_audited_and_needs_a_reason(token, manager_a):
    with pytest.raises(ValidationError, match="Say why"):
        token.replace_value("new-token-value-123456", manager_a, "")
    change = token.replace_value("new-token-value-123456", manager_a, "old token leaked")
    token.connection.refresh_from_db()
    assert token.connection.values_of("realtime")["access_token"] == "new-token-value-123456"
    assert (change.changed_by, change.reason, change.field) == (manager_a, "old token leaked", "access_token")
    token.refresh_from_db()
    assert token.expires == date(2026, 6, 15)
