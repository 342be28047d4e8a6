"""The health board a page at a time: a tenant overview for people who see many tenants
(staff), and one tenant's connections a page at a time.

Every page reads a fixed number of statements whatever the number of tenants and connections:
the page's own rows are fetched by LIMIT/OFFSET and counted in SQL, and the board is built only
for the connections shown (a page of 20,000 connections took 36 to 44 s when it was one page).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from collectors import board, health
from collectors.models import CollectionSchedule
from integrations.models import Tenant, VendorConnection

TENANTS_PER_PAGE = 50
CONNECTIONS_PER_PAGE = 25


class PageError(Exception):
    """A page number that is not one: `status` is the HTTP answer (400 malformed, 404 past the end)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def page_of(queryset: QuerySet, number: str | None, per_page: int, what: str) -> Page:
    """Page `number` (1 when absent) of `queryset`; a clear PageError for anything else."""
    paginator = Paginator(queryset, per_page, allow_empty_first_page=True)
    try:
        return paginator.page(number or 1)
    except PageNotAnInteger:
        raise PageError(f"page {number!r} is not a whole number", 400) from None
    except EmptyPage:
        pages = paginator.num_pages
        raise PageError(f"page {number} of the {what} does not exist: there {_are(pages)}", 404) from None


def _are(pages: int) -> str:
    return "is 1 page" if pages == 1 else f"are {pages} pages"


def status_counts(schedules: QuerySet[CollectionSchedule]) -> dict[str, int]:
    """Streams per status, counted in the database (one statement)."""
    rows = schedules.order_by().values("status").annotate(n=Count("id")).values_list("status", "n")
    return {status: n for status, n in sorted(rows, key=lambda r: -health.SEVERITY[r[0]])}


def down_of(counts: dict[str, int]) -> int:
    return sum(n for status, n in counts.items() if status in health.DOWN)


@dataclass
class TenantLine:
    """One tenant of the overview: its connections and its streams per status."""

    tenant: Tenant
    connections: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def down(self) -> int:
        return down_of(self.counts)

    @property
    def status(self) -> str:
        return health.worst(self.counts)


def tenants_shown(tenants: QuerySet[Tenant], search: str = "", problems: bool = False) -> QuerySet[Tenant]:
    """The overview's tenants, by name: those matching `search` (name or slug), and with
    `problems` only those with a stream down."""
    qs = tenants.order_by("name", "pk")
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(slug__icontains=search))
    if problems:
        down = CollectionSchedule.objects.filter(connection__tenant=OuterRef("pk"), status__in=health.DOWN)
        qs = qs.filter(Exists(down))
    return qs


def overview(tenants: QuerySet[Tenant], number: str | None) -> tuple[Page, list[TenantLine]]:
    """A page of tenants with their connection and stream counts: four statements whatever
    the number of tenants (the page count, the page, its connections, its streams)."""
    page = page_of(tenants, number, TENANTS_PER_PAGE, "tenants")
    lines = {t.pk: TenantLine(t) for t in page.object_list}
    conns = (
        VendorConnection.objects.filter(tenant_id__in=list(lines))
        .order_by()
        .values("tenant_id")
        .annotate(n=Count("id"))
        .values_list("tenant_id", "n")
    )
    for tenant_id, n in conns:
        lines[tenant_id].connections = n
    streams = (
        CollectionSchedule.objects.filter(connection__tenant_id__in=list(lines))
        .order_by()
        .values("connection__tenant_id", "status")
        .annotate(n=Count("id"))
        .values_list("connection__tenant_id", "status", "n")
    )
    per_tenant: dict[int, dict[str, int]] = defaultdict(dict)
    for tenant_id, status, n in streams:
        per_tenant[tenant_id][status] = n
    for tenant_id, counts in per_tenant.items():
        lines[tenant_id].counts = dict(sorted(counts.items(), key=lambda c: -health.SEVERITY[c[0]]))
    return page, list(lines.values())


def tenant_board(tenant: Tenant, number: str | None, now: datetime) -> tuple[Page, list[board.StreamRow]]:
    """A page of one tenant's connections, by name, with the board rows of their streams."""
    connections = VendorConnection.objects.filter(tenant=tenant).order_by("name", "pk")
    page = page_of(connections, number, CONNECTIONS_PER_PAGE, "connections")
    shown = [c.pk for c in page.object_list]
    return page, board.build(VendorConnection.objects.filter(pk__in=shown), now)
