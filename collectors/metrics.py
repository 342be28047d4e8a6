"""Prometheus metrics, built from the database on each scrape (a fresh registry each time).

Labels are the tenant slug, connection name, vendor and stream (tokens: section instead of
stream): never a secret, an address or a person's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors import board, health
from collectors.models import HEALTH_STATUSES, RUN_DURATION_BUCKETS

LABELS = ("tenant", "connection", "vendor", "stream")
# Run durations in seconds (the histogram's buckets, kept on each schedule).
BUCKETS = RUN_DURATION_BUCKETS


class HealthCollector(Collector):
    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        rows = board.build(now=now, for_display=False)
        labels_of = {}
        status = GaugeMetricFamily(
            "switchboard_stream_status",
            "1 for the stream's current health status, 0 for the others",
            labels=[*LABELS, "status"],
        )
        up = GaugeMetricFamily(
            "switchboard_stream_up", "1 unless the stream is late, failing or auth_failed", labels=LABELS
        )
        last_success = GaugeMetricFamily(
            "switchboard_stream_last_success_timestamp_seconds",
            "Unix time of the stream's last successful run (absent before the first)",
            labels=LABELS,
        )
        failures = GaugeMetricFamily(
            "switchboard_stream_consecutive_failures", "Failed runs since the last success", labels=LABELS
        )
        gap_metric = GaugeMetricFamily(
            "switchboard_connection_gap_intervals",
            "15-minute intervals missing in the last days (history streams)",
            labels=LABELS,
        )
        for row in rows:
            s = row.schedule
            labels = [row.tenant.slug, row.connection.name, row.connection.vendor, s.stream]
            labels_of[(s.connection_id, s.stream)] = labels
            for value, _ in HEALTH_STATUSES:
                status.add_metric([*labels, value], 1.0 if s.status == value else 0.0)
            up.add_metric(labels, 0.0 if row.down else 1.0)
            if s.last_success_at:
                last_success.add_metric(labels, s.last_success_at.timestamp())
            failures.add_metric(labels, float(s.consecutive_failures))
            if row.gaps is not None:
                gap_metric.add_metric(labels, float(row.gaps))
        yield from (status, up, last_success, failures, gap_metric)
        yield from self._runs(rows, labels_of)
        yield self._tokens(now)

    def _runs(
        self, rows: list[board.StreamRow], labels_of: dict[tuple[int, str], list[str]]
    ) -> Iterator[Metric]:
        """Totals kept on each schedule (collectors.runs.run_totals): one row per stream read,
        however many runs are stored, and unchanged when retention prunes old runs."""
        rows_metric = CounterMetricFamily(
            "switchboard_rows_collected", "Rows created or updated by collection runs", labels=LABELS
        )
        durations = HistogramMetricFamily(
            "switchboard_run_duration_seconds", "Duration of finished collection runs", labels=LABELS
        )
        for row in rows:
            s = row.schedule
            if not s.runs_finished:
                continue
            labels = labels_of[(s.connection_id, s.stream)]
            rows_metric.add_metric(labels, float(s.rows_collected))
            cumulative = [
                (str(b), float(getattr(s, f"run_le_{i}"))) for i, b in enumerate(RUN_DURATION_BUCKETS)
            ]
            durations.add_metric(labels, [*cumulative, ("+Inf", float(s.runs_finished))], s.run_seconds_total)
        yield rows_metric
        yield durations

    def _tokens(self, now: datetime) -> Metric:
        from tokens.models import AccessToken

        days = GaugeMetricFamily(
            "switchboard_token_days_left",
            "Days until the access token expires, in the tenant's zone (negative: expired)",
            labels=["tenant", "connection", "vendor", "section"],
        )
        for token in AccessToken.objects.select_related("connection__tenant"):
            conn = token.connection
            today = health.tenant_today_of(conn.tenant, now)
            days.add_metric(
                [conn.tenant.slug, conn.name, conn.vendor, token.section], float((token.expires - today).days)
            )
        return days


def render(now: datetime | None = None) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthCollector(now))
    return generate_latest(registry), CONTENT_TYPE_LATEST
