"""`/healthz`: is this installation working? A site-level view (the database, the broker, and
the dispatcher and worker heartbeats that `collectors.heartbeat` records)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from collectors.health_conf import conf
from collectors.heartbeat import ages
from wfm_site import services

log = logging.getLogger(__name__)


def _unreachable(service: str, error: str | None) -> str | None:
    """The body is public: driver errors name internal hosts and ports, so they go to the log."""
    if error is None:
        return None
    log.warning("/healthz: %s unreachable: %s", service, error)
    return f"the {service} is not reachable (details in the web process's log)"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Is this installation working? 200 when every check passes, 503 naming those that failed."""
    checks: dict[str, dict[str, object]] = {}
    db_error = services.database_error()
    checks["database"] = {"ok": db_error is None, "error": _unreachable("database", db_error)}
    broker = services.broker_error(timeout=2.0)
    checks["broker"] = {"ok": broker is None, "error": _unreachable("broker", broker)}
    limit = conf.HEARTBEAT_MAX_AGE
    try:
        beats = ages() if db_error is None else {}
    except Exception as exc:  # a missing table is as bad as no heartbeat
        beats = {}
        log.warning("/healthz: heartbeats unreadable: %s: %s", type(exc).__name__, exc)
    for name, what in (("dispatcher", "dispatcher ticked"), ("worker", "a worker answered")):
        age = beats.get(name)
        ok = age is not None and age <= limit
        checks[name] = {
            "ok": ok,
            "age_seconds": round(age.total_seconds(), 1) if age is not None else None,
            "error": None if ok else f"no sign that the {what} in the last {int(limit.total_seconds())} s",
        }
    failed = [name for name, c in checks.items() if not c["ok"]]
    body = {"status": "ok" if not failed else "fail", "failed": failed, "checks": checks}
    return JsonResponse(body, status=200 if not failed else 503)
