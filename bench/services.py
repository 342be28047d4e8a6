"""PostgreSQL and Redis for the benchmarks: where they are, whether they answer, a database of our own.

The benchmarks refuse to run on SQLite or on Kombu's filesystem broker: the figures are about
the production path (PostgreSQL and Redis), so `make bench` says what it needs and stops.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/sb_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql", "psql")


class ServiceMissing(RuntimeError):
    """PostgreSQL or Redis is not reachable: the message says which and how to point at one."""


def bench_database_url() -> tuple[str, str]:
    """(URL of the benchmarks' database, where it came from).

    BENCH_DATABASE_URL when set; else a database named after DATABASE_URL's (`<name>_bench`,
    on the same server), so a run configured like everything else stays off other people's
    databases and never writes into the configured one; else the default.
    """
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"], "BENCH_DATABASE_URL"
    configured = os.environ.get("DATABASE_URL", "")
    parts = urlsplit(configured)
    name = parts.path.lstrip("/")
    if parts.scheme in POSTGRES_SCHEMES and name:
        return urlunsplit((parts.scheme, parts.netloc, f"/{name}_bench", parts.query, "")), (
            "DATABASE_URL, with `_bench` appended to its name"
        )
    return DEFAULT_DATABASE_URL, "the default (no BENCH_DATABASE_URL, no PostgreSQL DATABASE_URL)"


def bench_redis_url() -> tuple[str, str]:
    """(URL of the benchmarks' Redis db, where it came from): BENCH_REDIS_URL, else the
    configured CELERY_BROKER_URL when it is Redis, else the default. The benchmarks empty that db."""
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"], "BENCH_REDIS_URL"
    configured = os.environ.get("CELERY_BROKER_URL", "")
    if configured.startswith(("redis://", "rediss://")):
        return configured, "CELERY_BROKER_URL"
    return DEFAULT_REDIS_URL, "the default (no BENCH_REDIS_URL, no Redis CELERY_BROKER_URL)"


def describe(url: str) -> str:
    """A URL without its password, fit for a log line."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return urlunsplit((parts.scheme, f"{user}@{host}" if user else host, parts.path, "", ""))


def bench_environment(database_url: str | None = None, redis_url: str | None = None) -> dict[str, str]:
    """The environment every benchmark process runs with (settings module, database, broker)."""
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    env["DATABASE_URL"] = database_url or bench_database_url()[0]
    env["CELERY_BROKER_URL"] = redis_url or bench_redis_url()[0]
    env.pop("CELERY_RESULT_BACKEND", None)
    env.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    env.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktYmU=")
    env["DEBUG"] = "false"
    # The end-to-end run's workers poll the sandbox on loopback, which the egress policy refuses
    # unless allowed (docs/security.md).
    env["VENDOR_EGRESS_ALLOW"] = "127.0.0.1/32"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _admin_url(database_url: str) -> tuple[str, str]:
    """(URL of the server's `postgres` database, the benchmark database's name)."""
    parts = urlsplit(database_url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ServiceMissing(
            f"the benchmarks need PostgreSQL; BENCH_DATABASE_URL is {parts.scheme}:// "
            "(set it to postgres://USER@HOST:PORT/DBNAME)"
        )
    name = parts.path.lstrip("/")
    if not name:
        raise ServiceMissing("BENCH_DATABASE_URL names no database (postgres://USER@HOST:PORT/DBNAME)")
    return urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, "")), name


def ensure_database(database_url: str) -> None:
    """Create the benchmark database when missing (the server must answer)."""
    import psycopg
    from psycopg import sql

    admin, name = _admin_url(database_url)
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.OperationalError as exc:
        host = urlsplit(database_url).netloc.rpartition("@")[2] or "localhost"
        raise ServiceMissing(
            f"PostgreSQL is not reachable at {host} ({str(exc).strip().splitlines()[0]}). "
            "The benchmarks need a PostgreSQL server (set BENCH_DATABASE_URL, default "
            f"{DEFAULT_DATABASE_URL})."
        ) from None


def check_redis(redis_url: str) -> None:
    import redis

    if not redis_url.startswith(("redis://", "rediss://")):
        raise ServiceMissing(f"the benchmarks need Redis; BENCH_REDIS_URL is {redis_url!r}")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        raise ServiceMissing(
            f"Redis is not reachable at {redis_url} ({exc}). The benchmarks need a Redis server "
            f"(set BENCH_REDIS_URL, default {DEFAULT_REDIS_URL})."
        ) from None


def flush_redis(redis_url: str) -> None:
    """Empty the benchmarks' own Redis db (never another db)."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()


def migrate() -> None:
    """Bring the benchmark database up to date (the site's apps plus django-celery-beat).

    In this process, once Django is set up with `bench.settings`.
    """
    from django.core.management import call_command

    call_command("migrate", interactive=False, skip_checks=True, verbosity=0)


def prepare_services(env: dict[str, str]) -> None:
    """Check both services, create the database when missing, empty the Redis db."""
    ensure_database(env["DATABASE_URL"])
    check_redis(env["CELERY_BROKER_URL"])
    flush_redis(env["CELERY_BROKER_URL"])
