"""Prometheus metrics, built from the database on each scrape.

Labels are the tenant slug, connection name, vendor and stream (tokens: section instead of
stream): never a secret, an address or a person's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from collectors import gaps, health, prometheus_text
from collectors.models import HEALTH_STATUSES, RUN_DURATION_BUCKETS, CollectionSchedule
from collectors.streams import gap_streams

LABELS = ("tenant", "connection", "vendor", "stream")
# Run durations in seconds (the histogram's buckets, kept on each schedule).
BUCKETS = RUN_DURATION_BUCKETS


# The columns of each stream a scrape reads: plain values, never the connection's encrypted
# credentials or a model instance (20,000 connections cost 1.66 GB when every row was a board row).
STREAM_COLUMNS = (
    "connection_id",
    "connection__created",
    "connection__tenant__slug",
    "connection__name",
    "connection__vendor",
    "stream",
    "status",
    "last_success_at",
    "consecutive_failures",
    "runs_finished",
    "run_seconds_total",
    "rows_collected",
    *(f"run_le_{i}" for i in range(len(RUN_DURATION_BUCKETS))),
)


class HealthCollector(Collector):
    """Three statements a scrape whatever the history (the stream rows, the history streams'
    covered spans, the tokens; the stored intervals only where no run answered for them) and a
    few values per stream, which the metric set itself needs."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = self.now or timezone.now()
        rows = [
            dict(zip(STREAM_COLUMNS, values, strict=True))
            for values in CollectionSchedule.objects.order_by("connection_id", "stream").values_list(
                *STREAM_COLUMNS
            )
        ]
        counted = gap_streams()
        created = {r["connection_id"]: r["connection__created"] for r in rows if r["stream"] in counted}
        coverage = gaps.coverage(created.items(), now)
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
            labels = _labels(row)
            for value, _ in HEALTH_STATUSES:
                status.add_metric([*labels, value], 1.0 if row["status"] == value else 0.0)
            up.add_metric(labels, 0.0 if row["status"] in health.DOWN else 1.0)
            if row["last_success_at"]:
                last_success.add_metric(labels, row["last_success_at"].timestamp())
            failures.add_metric(labels, float(row["consecutive_failures"]))
            cov = coverage.get(row["connection_id"])
            if cov is not None and row["stream"] in counted:
                gap_metric.add_metric(labels, float(cov.gaps))
        yield from (status, up, last_success, failures, gap_metric)
        yield from self._runs(rows)
        yield self._tokens(now)

    def _runs(self, rows: list[dict[str, Any]]) -> Iterator[Metric]:
        """Totals kept on each schedule (collectors.runs.run_totals): one row per stream read,
        however many runs are stored, and unchanged when retention prunes old runs."""
        rows_metric = CounterMetricFamily(
            "switchboard_rows_collected", "Rows created or updated by collection runs", labels=LABELS
        )
        durations = HistogramMetricFamily(
            "switchboard_run_duration_seconds", "Duration of finished collection runs", labels=LABELS
        )
        for row in rows:
            if not row["runs_finished"]:
                continue
            labels = _labels(row)
            rows_metric.add_metric(labels, float(row["rows_collected"]))
            cumulative = [(str(b), float(row[f"run_le_{i}"])) for i, b in enumerate(RUN_DURATION_BUCKETS)]
            durations.add_metric(
                labels, [*cumulative, ("+Inf", float(row["runs_finished"]))], row["run_seconds_total"]
            )
        yield rows_metric
        yield durations

    def _tokens(self, now: datetime) -> Metric:
        from tokens.models import AccessToken

        days = GaugeMetricFamily(
            "switchboard_token_days_left",
            "Days until the access token expires, in the tenant's zone (negative: expired)",
            labels=["tenant", "connection", "vendor", "section"],
        )
        tokens = AccessToken.objects.order_by("pk").values_list(
            "connection__tenant__slug",
            "connection__tenant__time_zone",
            "connection__name",
            "connection__vendor",
            "section",
            "expires",
        )
        today_in: dict[str, date] = {}
        for slug, zone, name, vendor, section, expires in tokens:
            if zone not in today_in:
                today_in[zone] = now.astimezone(ZoneInfo(zone)).date()
            days.add_metric([slug, name, vendor, section], float((expires - today_in[zone]).days))
        return days


def _labels(row: dict[str, Any]) -> list[str]:
    return [
        row["connection__tenant__slug"],
        row["connection__name"],
        row["connection__vendor"],
        row["stream"],
    ]


def render(now: datetime | None = None) -> tuple[bytes, str]:
    return prometheus_text.render(HealthCollector(now).collect()), CONTENT_TYPE_LATEST
