"""Reachability of the database and the broker, for `check_services` and `/healthz`."""

from __future__ import annotations

import warnings

from django.db import connection


def database_error() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "not reachable"
        return f"{type(exc).__name__}: {_first_line(exc)}"
    return None


def create_database_if_missing() -> bool:
    """Create the configured PostgreSQL database when the server has none by that name.

    Returns True when it created one. CI's server starts empty; tests then make their own
    `test_<name>` database beside it.
    """
    if connection.vendor != "postgresql":
        return False
    from django.db import connections
    from django.db.utils import Error

    name = connection.settings_dict["NAME"]
    try:
        with warnings.catch_warnings():
            # Django warns (many lines) when it falls back from the `postgres` database.
            warnings.simplefilter("ignore", RuntimeWarning)
            with connections["default"]._nodb_cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if cursor.fetchone():
                    return False
                quoted = connection.ops.quote_name(name)
                cursor.execute(f"CREATE DATABASE {quoted}")
    except Error:
        return False  # a stopped server: database_error() says so in one line
    return True


def broker_error(timeout: float = 3.0) -> str | None:
    from wfm_site.celery import app

    try:
        with app.connection_for_write() as conn:
            # kombu takes any number of seconds; its stubs say int.
            conn.ensure_connection(max_retries=1, timeout=timeout)  # type: ignore[arg-type]
    except Exception as exc:  # kombu raises many kinds; all mean "not reachable"
        return f"{type(exc).__name__}: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""
