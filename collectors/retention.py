"""Retention: how long each growing table keeps its rows, and `prune`, which deletes the rest.

Every table that grows with time has a policy below (docs/operating.md, "Retention"). The
others hold configuration or one row per thing and stay: tenants, memberships, connections,
schedules, cursors, agents, queues and memberships of queues, current agent states,
heartbeats, pending drop files (removed when the file goes), access tokens, addresses and
subscription lists, and the audit of what people did (token renewals, value changes).

Pruning deletes by primary key in batches, each batch its own short transaction, so it never
holds a lock for long. One pruner works a table at a time: it holds the table's
`RetentionHorizon` row as a lease (a compare-and-set, renewed after every batch), so two
pruners at once never do the same work and never wait on each other's rows. What each table
has lost is recorded as its horizon, for readers that must know: `retention_horizon()`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timedelta as td
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from collectors.health import EPOCH_VALUE, FAILED_RUN, FINISHED_RUN
from collectors.health_conf import conf as health_conf
from collectors.models import (
    AgentStateEvent,
    CollectionRun,
    CollectionSchedule,
    DropCall,
    DropFile,
    HealthFlip,
    IntervalVolume,
    RetentionHorizon,
)
from collectors.retention_conf import app_settings
from collectors.streams import find_stream
from integrations.cli import iso_z
from integrations.models import Tenant, VendorConnection
from notifications.models import Delivery
from tokens.models import BannerShown, TokenAlert, TokenDigest

log = logging.getLogger(__name__)

# Runs kept as long as failures: the failed ones and those a lost worker left (closed by
# the health pass as abandoned). A run still `running` is never pruned.
PRUNED_AS_FAILED = (*FAILED_RUN, CollectionRun.ABANDONED)


@dataclass(frozen=True)
class Target:
    """Rows of `queryset` (all older than `cutoff`) to delete, except the ids in `keep`."""

    rule: str
    queryset: models.QuerySet[Any]
    cutoff: datetime
    tenant: Tenant | None = None
    keep: frozenset[int] = frozenset()
    # Batches follow this column (then the id), so that an index leading with the
    # connection and this column serves each one; "pk" follows the id alone.
    column: str = "pk"


@dataclass(frozen=True)
class Policy:
    """One table's retention: `targets(now)` names what may go."""

    name: str
    model: type[models.Model]
    keeps: str
    targets: Callable[[datetime], list[Target]]

    @property
    def table(self) -> str:
        return self.model._meta.label_lower


@dataclass
class Outcome:
    """What one prune did to one table (or, with `dry_run`, would do)."""

    policy: str
    table: str
    deleted: int = 0
    batches: int = 0
    rules: dict[str, int] = field(default_factory=dict)
    horizon: datetime | None = None
    busy: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "table": self.table,
            "deleted": self.deleted,
            "batches": self.batches,
            "rules": self.rules,
            "horizon": iso_z(self.horizon),
            "busy": self.busy,
        }


# --- what each table keeps -------------------------------------------------------------------


def kept_runs() -> frozenset[int]:
    """Runs the health monitor reads whatever their age, per stream: the last success, the
    last finished run (its status) and the first failure of the current streak (its start)."""
    same = {"connection": OuterRef("connection"), "stream": OuterRef("stream")}
    runs = CollectionRun.objects.filter(**same)
    # The order the health monitor reads in, which the (connection, stream, -started_at)
    # index serves: a tie-breaker on the id would sort every run of the stream.
    newest = ("-started_at",)
    rows = (
        CollectionSchedule.objects.order_by()
        .annotate(
            last_ok=Subquery(runs.filter(status=CollectionRun.OK).order_by(*newest).values("pk")[:1]),
            last_finished=Subquery(runs.filter(status__in=FINISHED_RUN).order_by(*newest).values("pk")[:1]),
            streak_first=Subquery(
                runs.filter(status__in=FAILED_RUN)
                .filter(started_at__gt=Coalesce(OuterRef("last_success_at"), EPOCH_VALUE))
                .order_by("started_at")
                .values("pk")[:1]
            ),
        )
        .values_list("last_ok", "last_finished", "streak_first")
    )
    return frozenset(pk for row in rows for pk in row if pk is not None)


def _newest_per_connection(
    model: type[models.Model], column: str, connections: Iterable[int]
) -> frozenset[int]:
    """The newest row of each connection: the board's freshness reads it, however old.

    A query per connection, each a step down the (connection, column) index: one correlated
    subquery for all would let PostgreSQL walk the table-wide index for a connection with none.
    """
    out = set()
    for conn_id in sorted(set(connections)):
        pk = (
            model._default_manager.filter(connection_id=conn_id)
            .order_by(f"-{column}")
            .values_list("pk", flat=True)
            .first()
        )
        if pk is not None:
            out.add(pk)
    return frozenset(out)


def run_targets(now: datetime) -> list[Target]:
    """Per stream, so each batch is a range of the (connection, stream, -started_at) index."""
    keep = kept_runs()
    # Gap detection counts an interval collected when an ok history run covered it.
    ok_cutoff = now - max(app_settings.RUNS_OK, td(days=health_conf.GAP_DAYS + 1))
    polls_cutoff = now - app_settings.AGENT_STATE_RUNS_OK
    failed_cutoff = now - app_settings.RUNS_FAILED
    out = []
    streams = CollectionSchedule.objects.order_by("pk").values_list("connection_id", "stream")
    for conn_id, stream in streams:
        runs = CollectionRun.objects.filter(connection_id=conn_id, stream=stream)
        declared = find_stream(stream)
        if declared is not None and declared.poll:  # a poll's ok runs are kept shorter
            rule, cutoff = "agent_state_polls_ok", polls_cutoff
        else:
            rule, cutoff = "ok", ok_cutoff
        ok = runs.filter(status=CollectionRun.OK, started_at__lt=cutoff)
        failed = runs.filter(status__in=PRUNED_AS_FAILED, started_at__lt=failed_cutoff)
        out.append(Target(rule, ok, cutoff, keep=keep, column="started_at"))
        out.append(Target("failed", failed, failed_cutoff, keep=keep, column="started_at"))
    return out


def _tenants_with_retention() -> list[Tenant]:
    return list(Tenant.objects.filter(data_retention_days__isnull=False).order_by("pk"))


def _tenant_cutoff(tenant: Tenant, now: datetime) -> datetime:
    days = td(days=tenant.data_retention_days or 0)
    return now - max(days, app_settings.TENANT_DATA_MIN, td(days=health_conf.GAP_DAYS + 1))


def _connections_of(tenant: Tenant) -> list[int]:
    return list(VendorConnection.objects.filter(tenant=tenant).values_list("pk", flat=True))


def event_targets(now: datetime) -> list[Target]:
    out = []
    for tenant in _tenants_with_retention():
        cutoff = _tenant_cutoff(tenant, now)
        for conn_id in _connections_of(tenant):
            # Closed events only: an open event (no end yet) is an agent's current state.
            qs = AgentStateEvent.objects.filter(connection_id=conn_id, start__lt=cutoff, end__lt=cutoff)
            out.append(Target("tenant_retention", qs, cutoff, tenant=tenant, column="start"))
    return out


def interval_targets(now: datetime) -> list[Target]:
    out = []
    for tenant in _tenants_with_retention():
        cutoff = _tenant_cutoff(tenant, now)
        connections = _connections_of(tenant)
        keep = _newest_per_connection(IntervalVolume, "interval_start", connections)
        for conn_id in connections:
            qs = IntervalVolume.objects.filter(connection_id=conn_id, interval_start__lt=cutoff)
            out.append(
                Target("tenant_retention", qs, cutoff, tenant=tenant, keep=keep, column="interval_start")
            )
    return out


def call_targets(now: datetime) -> list[Target]:
    """Files oldest first, grouped so that a group holds about a batch of calls (by the rows
    each file had): a file's calls were written by one statement, so a group's calls are a
    few ranges of ids and each batch is a short step along the primary key."""
    cutoff = now - app_settings.DROP_CALLS
    files = DropFile.objects.filter(received_at__lt=cutoff)
    # Files before the last horizon lost their calls in an earlier, completed prune.
    done = retention_horizon(DropCall)
    if done is not None:
        files = files.filter(received_at__gte=done - td(days=1))
    out: list[Target] = []
    group: list[int] = []
    size = 0
    for file_id, rows in files.order_by("received_at", "pk").values_list("pk", "rows"):
        group.append(file_id)
        size += rows
        if size >= app_settings.BATCH_SIZE or len(group) >= 500:
            out.append(Target("calls_of_old_files", DropCall.objects.filter(file_id__in=group), cutoff))
            group, size = [], 0
    if group:
        out.append(Target("calls_of_old_files", DropCall.objects.filter(file_id__in=group), cutoff))
    # Calls whose file was deleted by hand.
    orphans = DropCall.objects.filter(file__isnull=True, interval_start__lt=cutoff)
    return [*out, Target("calls_without_file", orphans, cutoff)]


def drop_file_targets(now: datetime) -> list[Target]:
    cutoff = now - max(app_settings.DROP_FILES, app_settings.DROP_CALLS)
    qs = DropFile.objects.filter(received_at__lt=cutoff)
    keep = _newest_per_connection(
        DropFile, "received_at", qs.values_list("connection_id", flat=True).distinct()
    )
    return [Target("ledger", qs, cutoff, keep=keep)]


def flip_targets(now: datetime) -> list[Target]:
    cutoff = now - app_settings.HISTORY
    # An unprocessed flip is still in the outbox.
    return [Target("history", HealthFlip.objects.filter(created__lt=cutoff, processed__isnull=False), cutoff)]


def token_alert_targets(now: datetime) -> list[Target]:
    cutoff = now - app_settings.HISTORY
    # The stages of a token's current expiry stay, however old: deleting one would have the
    # reminder pass send it again. Unsent alerts are still in the outbox.
    qs = TokenAlert.objects.filter(created__lt=cutoff, sent_at__isnull=False).exclude(
        expires=F("token__expires")
    )
    return [Target("past_expiries", qs, cutoff)]


def token_digest_targets(now: datetime) -> list[Target]:
    cutoff = now - app_settings.HISTORY
    return [Target("history", TokenDigest.objects.filter(created__lt=cutoff, sent_at__isnull=False), cutoff)]


def delivery_targets(now: datetime) -> list[Target]:
    cutoff = now - app_settings.HISTORY
    # An unfinished delivery is still in the outbox.
    return [Target("history", Delivery.objects.filter(created__lt=cutoff, sent_at__isnull=False), cutoff)]


def banner_targets(now: datetime) -> list[Target]:
    cutoff = now - app_settings.BANNERS
    return [Target("old_days", BannerShown.objects.filter(day__lt=cutoff.date()), cutoff)]


# Calls before their files (a file's calls go first), runs before the ledger that links them.
POLICIES: tuple[Policy, ...] = (
    Policy(
        "runs",
        CollectionRun,
        "ok runs RETENTION_RUNS_OK_DAYS (at least HEALTH_GAP_DAYS + 1), ok agent-state polls "
        "RETENTION_AGENT_STATE_RUNS_OK_HOURS, failed runs RETENTION_RUNS_FAILED_DAYS; always each "
        "stream's last success, last finished run and first failure of its current streak",
        run_targets,
    ),
    Policy(
        "agent_state_events",
        AgentStateEvent,
        "closed events older than their tenant's data_retention_days (empty: kept)",
        event_targets,
    ),
    Policy(
        "intervals",
        IntervalVolume,
        "intervals older than their tenant's data_retention_days (empty: kept); always each "
        "connection's newest",
        interval_targets,
    ),
    Policy("drop_calls", DropCall, "calls of files received RETENTION_DROP_CALLS_DAYS ago", call_targets),
    Policy(
        "drop_files",
        DropFile,
        "RETENTION_DROP_FILES_DAYS (at least the calls'); always each connection's newest",
        drop_file_targets,
    ),
    Policy("health_flips", HealthFlip, "processed flips RETENTION_HISTORY_DAYS", flip_targets),
    Policy(
        "token_alerts",
        TokenAlert,
        "sent alerts of past expiries RETENTION_HISTORY_DAYS",
        token_alert_targets,
    ),
    Policy("token_digests", TokenDigest, "sent digests RETENTION_HISTORY_DAYS", token_digest_targets),
    Policy("banners", BannerShown, "RETENTION_BANNER_DAYS", banner_targets),
    Policy("webhook_deliveries", Delivery, "finished deliveries RETENTION_HISTORY_DAYS", delivery_targets),
)
POLICY_NAMES = tuple(p.name for p in POLICIES)
TENANT_TABLES = (AgentStateEvent, IntervalVolume)


# --- horizons --------------------------------------------------------------------------------


def retention_horizon(model: type[models.Model], tenant: Tenant | int | None = None) -> datetime | None:
    """The moment before which retention may have deleted rows of `model`; None if it never
    deleted any.

    Every row whose age column (a run's `started_at`, an event's `start`, an interval's
    `interval_start`, a flip's or alert's `created`, a drop file's `received_at`, a call's
    `interval_start`) is at or after the horizon is still stored, apart from rows deleted
    with their connection or by hand; rows before it may be gone (some are kept on purpose).
    A reader holding a position older than the horizon, such as an incremental API cursor,
    must answer 410 Gone rather than silently skip rows. The horizon never moves back.

    Agent state events and intervals follow each tenant's own retention: pass the tenant for
    its horizon; without one you get the latest of every tenant's (the safe answer for a
    reader across tenants). The highest deleted primary key is on the same row
    (`RetentionHorizon.deleted_through_id`), for positions that are ids.
    """
    rows = RetentionHorizon.objects.filter(table=model._meta.label_lower, horizon__isnull=False)
    if model in TENANT_TABLES:
        # Without a tenant: the latest of every tenant's horizons.
        rows = rows.filter(tenant=tenant) if tenant is not None else rows.filter(tenant__isnull=False)
    else:
        rows = rows.filter(tenant__isnull=True)
    return rows.aggregate(latest=models.Max("horizon"))["latest"]


def _horizon_row(table: str, tenant: Tenant | None) -> RetentionHorizon:
    try:
        with transaction.atomic():
            row, _ = RetentionHorizon.objects.get_or_create(table=table, tenant=tenant)
    except IntegrityError:  # created by a concurrent pruner
        row = RetentionHorizon.objects.get(table=table, tenant=tenant)
    return row


def _advance(
    table: str, tenant: Tenant | None, cutoff: datetime, deleted: int, last_id: int, now: datetime
) -> None:
    row = _horizon_row(table, tenant)
    RetentionHorizon.objects.filter(pk=row.pk).update(
        horizon=cutoff if row.horizon is None else max(row.horizon, cutoff),
        deleted_through_id=last_id
        if row.deleted_through_id is None
        else max(row.deleted_through_id, last_id),
        rows_deleted=F("rows_deleted") + deleted,
        last_pruned=now,
    )


class Lease:
    """A pruner's hold on one table: the compare-and-set pattern of the schedules' leases."""

    def __init__(self, table: str, now: datetime) -> None:
        self.row = _horizon_row(table, None)
        self.token = uuid.uuid4().hex
        self.now = now

    def _until(self) -> datetime:
        return timezone.now() + td(seconds=app_settings.LEASE_SECONDS)

    def acquire(self) -> bool:
        free = Q(lease_until__isnull=True) | Q(lease_until__lte=timezone.now())
        return bool(
            RetentionHorizon.objects.filter(free, pk=self.row.pk).update(
                lease_until=self._until(), lease_id=self.token
            )
        )

    def renew(self) -> bool:
        return bool(
            RetentionHorizon.objects.filter(pk=self.row.pk, lease_id=self.token).update(
                lease_until=self._until()
            )
        )

    def release(self) -> None:
        RetentionHorizon.objects.filter(pk=self.row.pk, lease_id=self.token).update(
            lease_until=None, lease_id="", last_pruned=self.now
        )


# --- pruning ---------------------------------------------------------------------------------


class LeaseLost(Exception):
    """Another pruner took the table over (this one stalled past RETENTION_LEASE_SECONDS)."""


def _run_target(
    target: Target, model: type[models.Model], batch: int, dry_run: bool, lease: Lease | None
) -> tuple[int, int, int]:
    """Delete the target's rows a batch at a time; returns (rows, batches, highest id deleted).

    Each batch starts after the last row read (keyset on `target.column` and the id), so
    kept rows are read once and never block progress.
    """
    column = target.column
    order = ("pk",) if column == "pk" else (column, "pk")
    deleted = batches = last_id = 0
    after: tuple[Any, int] | None = None
    while True:
        page = target.queryset
        if after is not None:
            if column == "pk":
                page = page.filter(pk__gt=after[1])
            else:
                page = page.filter(
                    Q(**{f"{column}__gt": after[0]}) | Q(**{column: after[0], "pk__gt": after[1]})
                )
        rows = list(page.order_by(*order).values_list(column, "pk")[:batch])
        if not rows:
            return deleted, batches, last_id
        after = rows[-1]
        doomed = [pk for _, pk in rows if pk not in target.keep]
        if not doomed:
            continue
        batches += 1
        if dry_run:
            deleted += len(doomed)
            continue
        with transaction.atomic():
            # The target's conditions again: a row changed since it was read stays.
            deleted += _delete(target.queryset.filter(pk__in=doomed), model)
        last_id = max(last_id, *doomed)
        if lease is not None and not lease.renew():
            raise LeaseLost(f"{model._meta.label_lower}: another pruner took the table over")


def _delete(rows: models.QuerySet[Any], model: type[models.Model]) -> int:
    """Delete `rows` in one statement when every reference to the model is SET_NULL (nulled
    here first, one UPDATE each); otherwise through Django's collector, which loads each row
    to cascade (five times slower on runs, measured in bench/retention.py)."""
    related = model._meta.related_objects
    if any(rel.on_delete is not models.SET_NULL for rel in related):
        return rows.delete()[1].get(model._meta.label, 0)
    ids = list(rows.values_list("pk", flat=True))
    for rel in related:
        rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": ids}).update(
            **{rel.field.name: None}
        )
    return model._base_manager.filter(pk__in=ids)._raw_delete(rows.db)


def prune_policy(policy: Policy, now: datetime, *, batch_size: int, dry_run: bool) -> Outcome:
    outcome = Outcome(policy.name, policy.table)
    lease = None if dry_run else Lease(policy.table, now)
    if lease is not None and not lease.acquire():
        outcome.busy = True
        return outcome
    try:
        for target in policy.targets(now):
            try:
                rows, batches, last_id = _run_target(target, policy.model, batch_size, dry_run, lease)
            except LeaseLost as exc:
                log.warning("prune %s stopped: %s", policy.name, exc)
                outcome.busy = True
                lease = None  # not ours any more: nothing to release
                return outcome
            outcome.deleted += rows
            outcome.batches += batches
            outcome.rules[target.rule] = outcome.rules.get(target.rule, 0) + rows
            if rows and not dry_run:
                _advance(policy.table, target.tenant, target.cutoff, rows, last_id, now)
        if not dry_run:
            outcome.horizon = retention_horizon(policy.model)
    finally:
        if lease is not None:
            lease.release()
    if outcome.deleted and not dry_run:
        log.info("prune %s: %s row(s) in %s batch(es)", policy.name, outcome.deleted, outcome.batches)
    return outcome


def prune(
    now: datetime | None = None,
    *,
    batch_size: int | None = None,
    dry_run: bool = False,
    only: Iterable[str] | None = None,
) -> list[Outcome]:
    """Apply every policy (or those named in `only`); with `dry_run`, count and delete nothing."""
    now = now or timezone.now()
    batch = batch_size or app_settings.BATCH_SIZE
    if batch < 1:
        raise ValueError(f"batch size {batch} must be at least 1")
    names = set(only) if only is not None else set(POLICY_NAMES)
    unknown = names - set(POLICY_NAMES)
    if unknown:
        raise ValueError(
            f"unknown table {', '.join(sorted(unknown))!s}; use one of {', '.join(POLICY_NAMES)}"
        )
    return [prune_policy(p, now, batch_size=batch, dry_run=dry_run) for p in POLICIES if p.name in names]
