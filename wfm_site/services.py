"""Reachability of the database and the broker, for `check_services` and `/healthz`."""

from __future__ import annotations

from django.db import connection


def database_error() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not reachable"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


def create_database_if_missing() -> bool:
    """Create the configured PostgreSQL database when the server has none by that name.

    Returns True when it created one. CI's server starts empty; tests then make their own
    `test_<name>` database beside it.
    """
    if connection.vendor != "postgresql":
        return False
    from django.db import connections

    name = connection.settings_dict["NAME"]
    with connections["default"]._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            return False
        quoted = connection.ops.quote_name(name)
        cursor.execute(f"CREATE DATABASE {quoted}")
    return True


def broker_error(timeout: float = 3.0) -> str | None:
    from wfm_site.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:  # kombu raises many kinds; all mean "not reachable"
        return f"{type(exc).__name__}: {exc}"
    return None
