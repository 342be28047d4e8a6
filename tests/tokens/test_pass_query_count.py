"""The pass reads and writes in bulk: its query count does not grow with the number of tokens."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_connection
from tokens.models import AccessToken, TokenAlert
from tokens.reminders import run_pass


def add_tokens(tenant, n: int, start: int) -> None:
    for i in range(start, start + n):
        conn = make_connection(tenant, "tcn", f"q{i}")
        AccessToken.objects.create(
            connection=conn, issued=date(2025, 6, 1), expires=date(2026, 6, 1 + i % 20)
        )


def queries_of_a_pass(today: date) -> int:
    with CaptureQueriesContext(connection) as ctx:
        run_pass(today=today)
    return len(ctx.captured_queries)


def test_the_pass_costs_the_same_queries_for_5_and_50_tokens(tenant_a, tenant_b):
    add_tokens(tenant_a, 5, 0)
    few = queries_of_a_pass(date(2026, 5, 20))
    add_tokens(tenant_b, 45, 5)
    many = queries_of_a_pass(date(2026, 5, 21))
    assert TokenAlert.objects.filter(token__connection__tenant=tenant_b).count() == 45
    assert many == few
