"""/healthz: database, broker, dispatcher and worker heartbeats; 503 naming what failed."""

from __future__ import annotations

import socket
from datetime import timedelta as td

import pytest
from django.utils import timezone

from collectors import heartbeat
from collectors.models import Heartbeat
from wfm_site.celery import app

pytestmark = pytest.mark.django_db


@pytest.fixture
def beats():
    now = timezone.now()
    for name in ("dispatcher", "worker"):
        Heartbeat.objects.update_or_create(name=name, defaults={"at": now - td(seconds=5)})


@pytest.fixture
def broker_ok(monkeypatch):
    monkeypatch.setattr("wfm_site.services.broker_error", lambda timeout=3.0: None)


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_all_checks_pass(client, beats, broker_ok):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert body["checks"]["worker"]["age_seconds"] == pytest.approx(5, abs=2)


@pytest.fixture
def stopped_broker():
    """Celery pointed at a port where nothing listens (restored afterwards); yields the port."""
    keys = ("broker_url", "broker_read_url", "broker_write_url", "broker_transport_options")
    saved = {k: app.conf.get(k) for k in keys}
    port = unused_port()
    dead = f"redis://127.0.0.1:{port}"
    # Celery copies a configured broker URL into the read/write URLs: point all three away.
    app.conf.update(broker_url=dead, broker_read_url=dead, broker_write_url=dead, broker_transport_options={})
    yield port
    app.conf.update(**saved)


def test_it_fails_when_the_broker_is_stopped(client, beats, stopped_broker):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker"]
    assert body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_its_body_never_shows_the_broker_host_or_port(client, beats, stopped_broker, caplog):
    response = client.get("/healthz")
    assert response.status_code == 503
    text = response.content.decode()
    assert str(stopped_broker) not in text and "127.0.0.1" not in text and "redis://" not in text
    # The operator still finds the driver's words in the web process's log.
    assert str(stopped_broker) in caplog.text


def test_its_body_never_shows_the_database_host_or_port(client, beats, broker_ok, monkeypatch):
    error = 'OperationalError: connection to server at "db.internal" (10.1.2.3), port 5433 failed'
    monkeypatch.setattr("wfm_site.services.database_error", lambda: error)
    text = client.get("/healthz").content.decode()
    assert "db.internal" not in text and "10.1.2.3" not in text and "5433" not in text
    assert "not reachable" in text


def test_it_fails_when_the_dispatcher_has_not_ticked_in_a_minute(client, broker_ok):
    now = timezone.now()
    Heartbeat.objects.create(name="dispatcher", at=now - td(seconds=61))
    Heartbeat.objects.create(name="worker", at=now)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["dispatcher"]


def test_it_fails_when_no_worker_ever_answered(client, broker_ok):
    Heartbeat.objects.create(name="dispatcher", at=timezone.now())
    body = client.get("/healthz").json()
    assert body["failed"] == ["worker"]
    assert body["checks"]["worker"]["age_seconds"] is None


def test_it_fails_when_the_database_is_unreachable(client, beats, broker_ok, monkeypatch):
    monkeypatch.setattr("wfm_site.services.database_error", lambda: "OperationalError: connection refused")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "database" in response.json()["failed"]


def test_a_finished_dispatch_task_records_both_heartbeats(monkeypatch):
    monkeypatch.setattr(heartbeat, "_last_written", {})

    class Task:
        name = "collectors.tasks.dispatch_due"

    heartbeat._on_task_postrun(sender=Task())
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"dispatcher", "worker"}


def test_any_other_task_records_only_the_worker(monkeypatch):
    monkeypatch.setattr(heartbeat, "_last_written", {})

    class Task:
        name = "collectors.tasks.evaluate_health"

    heartbeat._on_task_postrun(sender=Task())
    assert list(Heartbeat.objects.values_list("name", flat=True)) == ["worker"]
