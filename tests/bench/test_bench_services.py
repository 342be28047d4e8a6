"""Which database and Redis db the benchmarks use: named after the configured ones, overridable."""

from __future__ import annotations

import os

import pytest

from bench.services import (
    DEFAULT_DATABASE_URL,
    DEFAULT_REDIS_URL,
    bench_database_url,
    bench_environment,
    bench_redis_url,
    describe,
)

# Derived from the configured database and Redis db (nothing here connects): the tests need a
# PostgreSQL DATABASE_URL and a Redis CELERY_BROKER_URL to derive from, as under CI.
DATABASE = os.environ.get("DATABASE_URL", "")
BROKER = os.environ.get("CELERY_BROKER_URL", "")
needs_servers = pytest.mark.skipif(
    not (DATABASE.startswith("postgres") and BROKER.startswith("redis")),
    reason="derives from a PostgreSQL DATABASE_URL and a Redis CELERY_BROKER_URL (CI=true)",
)


@pytest.fixture
def configured(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("BENCH_REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", DATABASE)
    monkeypatch.setenv("CELERY_BROKER_URL", BROKER)
    return monkeypatch


@needs_servers
def test_the_benchmark_database_is_the_configured_one_with_bench_appended_on_the_same_server(configured):
    url, source = bench_database_url()
    assert url == DATABASE.rstrip("/") + "_bench"
    assert "DATABASE_URL" in source


@needs_servers
def test_the_benchmarks_use_the_configured_redis_db(configured):
    assert bench_redis_url() == (BROKER, "CELERY_BROKER_URL")
    env = bench_environment()
    assert env["DATABASE_URL"] == DATABASE.rstrip("/") + "_bench"
    assert env["CELERY_BROKER_URL"] == BROKER


@needs_servers
def test_bench_urls_override_the_configured_ones(configured):
    elsewhere_db, elsewhere_redis = DATABASE + "_elsewhere", BROKER + "?elsewhere=1"
    configured.setenv("BENCH_DATABASE_URL", elsewhere_db)
    configured.setenv("BENCH_REDIS_URL", elsewhere_redis)
    assert bench_database_url() == (elsewhere_db, "BENCH_DATABASE_URL")
    assert bench_redis_url() == (elsewhere_redis, "BENCH_REDIS_URL")


def test_a_sqlite_configuration_falls_back_to_the_default_database_and_says_so(configured):
    configured.setenv("DATABASE_URL", "sqlite:///var/db.sqlite3")
    configured.setenv("CELERY_BROKER_URL", "filesystem://")
    url, source = bench_database_url()
    assert url == DEFAULT_DATABASE_URL
    assert "default" in source
    assert bench_redis_url()[0] == DEFAULT_REDIS_URL


def test_the_url_printed_in_the_log_carries_no_password():
    shown = describe("postgres://sb:secret@db.example:5433/name_bench")
    assert "secret" not in shown
    assert shown == "postgres://sb@db.example:5433/name_bench"
