"""The health pages (admin) and `/metrics` for Prometheus (`/healthz` is the site's: wfm_site.views)."""

from __future__ import annotations

import hmac
from datetime import datetime

from django.contrib import admin, messages
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from collectors import board, board_pages, gaps, health
from collectors import metrics as metrics_module
from collectors.health_conf import conf
from collectors.models import CollectionRun, CollectionSchedule, HealthFlip
from integrations.local_times import NamedZone
from integrations.models import Tenant, VendorConnection
from integrations.scrub import scrub

RUNS_SHOWN = 50
FLIPS_SHOWN = 50


def _visible_schedules(request: HttpRequest) -> QuerySet[CollectionSchedule]:
    return CollectionSchedule.objects.filter(connection__in=VendorConnection.objects.visible_to(request.user))


def _may_act(request: HttpRequest, schedule: CollectionSchedule) -> bool:
    """Managers and owners of the tenant (and superusers) act; partners only look."""
    return VendorConnection.objects.managed_by(request.user).filter(pk=schedule.connection_id).exists()


def _health_page(request: HttpRequest) -> HttpResponse:
    """One tenant's board, a page of connections at a time; people who see several tenants
    (staff) first get the tenant overview and choose one (`?tenant=<slug>`)."""
    now = timezone.now()
    tenants = Tenant.objects.visible_to(request.user)
    slug = request.GET.get("tenant", "")
    try:
        if slug:
            tenant = tenants.filter(slug=slug).first()
            if tenant is None:
                # The same answer for a tenant that does not exist and one that is not yours.
                return _plain(f"no tenant {slug!r} among the tenants you may see", 404)
            return _tenant_page(request, tenant, now, several=True)
        first = list(tenants.order_by("name", "pk")[:2])
        if len(first) == 1:
            return _tenant_page(request, first[0], now, several=False)
        return _overview_page(request, tenants, now)
    except board_pages.PageError as error:
        return _plain(str(error), error.status)


def _plain(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _pager(request: HttpRequest, page: Page, what: str) -> dict[str, object]:
    """Links to the neighbouring pages, keeping the other parameters (tenant, search, filter)."""

    def link(number: int) -> str:
        query = request.GET.copy()
        query["page"] = str(number)
        return "?" + query.urlencode()

    count = page.paginator.count
    return {
        "shown": f"{what} {page.start_index()}–{page.end_index()} of {count}" if count else f"no {what}",
        "number": page.number,
        "pages": page.paginator.num_pages,
        "previous": link(page.previous_page_number()) if page.has_previous() else "",
        "next": link(page.next_page_number()) if page.has_next() else "",
    }


def _tenant_page(request: HttpRequest, tenant: Tenant, now: datetime, *, several: bool) -> HttpResponse:
    page, rows = board_pages.tenant_board(tenant, request.GET.get("page"), now)
    counts = board_pages.status_counts(CollectionSchedule.objects.filter(connection__tenant=tenant))
    context = {
        **admin.site.each_context(request),
        "title": f"Integration health · {tenant.name}",
        "tenant": tenant,
        "several": several,
        "tenants": board.grid(rows),
        "summary": counts,
        "down": board_pages.down_of(counts),
        "pager": _pager(request, page, "connections"),
        "now": now,
        "gap_days": conf.GAP_DAYS,
    }
    # One tenant's board: its times read in the tenant's zone, which the summary names.
    with timezone.override(NamedZone(tenant.time_zone)):
        return render(request, "collectors/health.html", context)


def _overview_page(request: HttpRequest, tenants: QuerySet[Tenant], now: datetime) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    problems = request.GET.get("problems") == "1"
    shown = board_pages.tenants_shown(tenants, search, problems)
    page, lines = board_pages.overview(shown, request.GET.get("page"))
    visible = CollectionSchedule.objects.all()
    if not request.user.is_superuser:
        visible = visible.filter(connection__tenant__in=tenants)
    counts = board_pages.status_counts(visible)
    context = {
        **admin.site.each_context(request),
        "title": "Integration health",
        "lines": lines,
        "search": search,
        "problems": problems,
        "summary": counts,
        "down": board_pages.down_of(counts),
        "pager": _pager(request, page, "tenants"),
        "now": now,
    }
    return render(request, "collectors/health_tenants.html", context)


def _stream_page(request: HttpRequest, schedule_id: int) -> HttpResponse:
    now = timezone.now()
    schedule = get_object_or_404(
        _visible_schedules(request).select_related("connection__tenant"), pk=schedule_id
    )
    row = board.build(schedules=CollectionSchedule.objects.filter(pk=schedule.pk), now=now)[0]
    conn = schedule.connection
    secrets = conn.secret_values()
    runs = list(CollectionRun.objects.filter(connection=conn, stream=schedule.stream)[:RUNS_SHOWN])
    for run in runs:
        # An attribute for the template only: the error with the connection's secrets masked.
        run.safe_error = scrub(run.error_message, secrets) if run.error_message else ""  # type: ignore[attr-defined]
    cov = None
    if schedule.stream in gaps.HISTORY_STREAMS:
        cov = gaps.coverage([(conn.pk, conn.created)], now)[conn.pk]
    context = {
        **admin.site.each_context(request),
        "title": f"{conn.key} · {schedule.get_stream_display()}",
        "row": row,
        "schedule": schedule,
        "connection": conn,
        "runs": runs,
        "flips": HealthFlip.objects.filter(connection=conn, stream=schedule.stream)[:FLIPS_SHOWN],
        "coverage": cov,
        "gap_ranges": cov.ranges()[-20:] if cov else [],
        "may_act": _may_act(request, schedule),
        "autopaused": health.is_autopaused(schedule),
        "now": now,
        "zone": conn.tenant.time_zone,
    }
    # The stream's times in its tenant's zone, each naming it (integrations.local_times).
    with timezone.override(NamedZone(conn.tenant.time_zone)):
        return render(request, "collectors/stream.html", context)


def _stream_action(request: HttpRequest, schedule_id: int, action: str) -> HttpResponse:
    schedule = get_object_or_404(
        _visible_schedules(request).select_related("connection__tenant"), pk=schedule_id
    )
    if not _may_act(request, schedule):
        return HttpResponseForbidden("Only the tenant's account managers and owners may do this.")
    by = request.user.get_username()
    back = redirect("collectors:health-stream", schedule.pk)
    if action == "pause":
        flip = health.pause(schedule, by)
        messages.success(request, "Paused." if flip else "It was already paused.")
    elif action == "resume":
        flip = health.resume(schedule, by)
        messages.success(request, "Resumed: it runs now." if flip else "It was not paused.")
    elif action == "collect":
        if not schedule.enabled:
            messages.error(request, "This stream is paused: resume it first.")
        else:
            # The dispatcher claims due rows every few seconds; making the row due is the
            # one way to run now without ever running it twice at once (the lease).
            CollectionSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
            messages.success(request, "Queued: the dispatcher starts it within a few seconds.")
    elif action == "test":
        from integrations.connection_check import check_connection

        result = check_connection(schedule.connection)
        if result.ok:
            messages.success(request, "Connection works: " + (", ".join(result.checked) or "checked"))
        else:
            messages.error(request, f"Connection test failed ({result.error_class}): {result.error}")
    else:
        raise Http404("unknown action")
    return back


health_page = admin.site.admin_view(_health_page)
stream_page = admin.site.admin_view(_stream_page)
stream_action = admin.site.admin_view(require_POST(_stream_action))


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format. 404 when METRICS_TOKEN is unset; 401 without the right bearer token."""
    token = conf.METRICS_TOKEN
    if not token:
        raise Http404("metrics are off: set METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        response = HttpResponse("bearer token required\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body, content_type = metrics_module.render()
    return HttpResponse(body, content_type=content_type)
