"""5) The reminder pass over N tokens: a fixed number of queries whatever N is.

N access tokens with expiries spread over 200 days (from 20 days expired to 180 days left),
so about half have a stage due. Switchboard runs `tokens.reminders.run_pass` (bulk reads,
one bulk insert); the usual alternative walks the tokens one by one with the ORM (read the
stages already sent, `get_or_create` the due one), which costs queries per token.
"""

from __future__ import annotations

import time
from datetime import date
from datetime import timedelta as td
from pathlib import Path
from typing import Any

from bench.benchmarks.fixtures import bench_tenant, pool_connections, truncate
from bench.harness import SWITCHBOARD, Benchmark, budget_seconds


class Reminders(Benchmark):
    name = "reminders"
    title = "Token reminder pass"
    unit = "tokens"
    sizes = {"tiny": (100,), "small": (500, 5_000), "full": (1_000, 10_000, 100_000)}
    switchboard_label = "tokens.reminders.run_pass (what `manage.py token_alerts` runs)"
    reference_label = "naive ORM loop: per token, read its sent stages and get_or_create the due one"
    target = "query count independent of the number of tokens"

    def missing(self) -> str | None:
        try:
            from tokens.reminders import run_pass  # noqa: F401
        except ImportError as exc:
            return f"tokens.reminders.run_pass not importable ({exc})"
        return None

    def setup(self, side: str, size: int, workdir: Path) -> Any:
        from django.utils import timezone

        from tokens.models import AccessToken

        tenant = bench_tenant()
        today = timezone.localtime(timezone.now(), timezone=_zone(tenant.time_zone)).date()
        conns = pool_connections(-(-size // 2))
        truncate("tokens_tokenalert", "tokens_tokendigest", "tokens_accesstoken")
        tokens = []
        for n in range(size):
            expires = today + td(days=n % 200 - 20)
            tokens.append(
                AccessToken(
                    connection_id=conns[n // 2],
                    section=("realtime", "history")[n % 2],
                    service_login=f"wfm.bench{n}@example.com",
                    issued=expires - td(days=365),
                    expires=expires,
                )
            )
        AccessToken.objects.bulk_create(tokens, batch_size=5000)
        return {"today": today}

    def run(self, side: str, size: int, state: Any) -> dict[str, Any]:
        today: date = state["today"]
        if side == SWITCHBOARD:
            from tokens.reminders import run_pass

            result = run_pass(today=today)
            return {"written": result.written}
        return self._naive(today)

    def _naive(self, today: date) -> dict[str, Any]:
        from django.db import transaction
        from django.utils import timezone

        from tokens import stages

        policy = stages.policy_for()
        now = timezone.now()
        # One transaction: per-statement commits would make this loop measure fsync, not queries.
        with transaction.atomic():
            return self._walk(today, policy, now)

    def _walk(self, today: date, policy, now) -> dict[str, Any]:
        from tokens import stages
        from tokens.models import AccessToken, TokenAlert

        written = 0
        deadline = time.perf_counter() + budget_seconds()
        for n, token in enumerate(
            AccessToken.objects.select_related("connection__tenant").iterator(chunk_size=2000)
        ):
            if time.perf_counter() > deadline:
                return {"written": written, "capped": True, "done": n}
            left = (token.expires - today).days
            stage = stages.stage_to_send(left, policy, token.sent_stages())
            if stage is None:
                continue
            _, created = TokenAlert.objects.get_or_create(
                token=token,
                expires=token.expires,
                stage=stage,
                defaults={"day": today, "days_left": left, "created": now},
            )
            written += created
        return {"written": written}

    def verify(self, side: str, size: int, state: Any, result: dict[str, Any]) -> dict[str, Any]:
        from tokens.models import TokenAlert

        if result.get("capped"):
            return {}
        # Due: days left from -20 to 90 of every 200-day cycle.
        expected = sum(1 for n in range(size) if n % 200 - 20 <= 90)
        stored = TokenAlert.objects.count()
        if stored != expected:
            raise AssertionError(f"{side}: {stored} alerts written, expected {expected}")
        return {"alerts": stored}

    def verdict(self, table: list[dict[str, Any]]) -> tuple[bool | None, str]:
        rows = [r for r in table if r.get("sb_queries") is not None]
        if not rows:
            return None, "not measured"
        counts = [r["sb_queries"] for r in rows]
        constant = max(counts) - min(counts) <= 2
        sizes = ", ".join(f"{r['size']:,}" for r in rows)
        return constant, (
            f"Switchboard queries {', '.join(map(str, counts))} at {sizes} tokens "
            f"({'independent of N' if constant else 'grows with N'}); the per-token loop issued "
            f"{', '.join(str(r['ref_queries']) for r in rows)}"
        )


def _zone(name: str):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)
