"""Which database and Redis db the benchmarks use: named after the configured ones, overridable."""

from __future__ import annotations

import pytest

from bench.services import bench_database_url, bench_environment, bench_redis_url, describe


@pytest.fixture
def configured(monkeypatch):
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("BENCH_REDIS_URL", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://sb:secret@db.example:5433/sb_alice")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/4")
    return monkeypatch


def test_the_benchmark_database_is_the_configured_one_with_bench_appended_on_the_same_server(configured):
    url, source = bench_database_url()
    assert url == "postgres://sb:secret@db.example:5433/sb_alice_bench"
    assert "DATABASE_URL" in source


def test_the_benchmarks_use_the_configured_redis_db(configured):
    assert bench_redis_url() == ("redis://127.0.0.1:6379/4", "CELERY_BROKER_URL")
    env = bench_environment()
    assert env["DATABASE_URL"].endswith("/sb_alice_bench")
    assert env["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/4"


def test_bench_urls_override_the_configured_ones(configured):
    configured.setenv("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/elsewhere")
    configured.setenv("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
    assert bench_database_url() == ("postgres://postgres@127.0.0.1:5432/elsewhere", "BENCH_DATABASE_URL")
    assert bench_redis_url() == ("redis://127.0.0.1:6379/9", "BENCH_REDIS_URL")


def test_a_sqlite_configuration_falls_back_to_the_default_database_and_says_so(configured):
    configured.setenv("DATABASE_URL", "sqlite:///var/db.sqlite3")
    configured.setenv("CELERY_BROKER_URL", "filesystem://")
    url, source = bench_database_url()
    assert url == "postgres://postgres@127.0.0.1:5432/sb_bench"
    assert "default" in source
    assert bench_redis_url()[0] == "redis://127.0.0.1:6379/15"


def test_the_url_printed_in_the_log_carries_no_password():
    shown = describe("postgres://sb:secret@db.example:5433/sb_alice_bench")
    assert "secret" not in shown
    assert shown == "postgres://sb@db.example:5433/sb_alice_bench"
