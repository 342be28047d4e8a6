"""`make prod-check`: start the production stack as docs/operating.md runs it and prove it works.

On this machine's PostgreSQL and Redis (DATABASE_URL and CELERY_BROKER_URL, the Makefile's CI
defaults otherwise), with DEBUG off, in a database of its own (`<name>_prodcheck`, created
fresh and dropped at the end) and under a Redis key prefix of its own (CELERY_BROKER_KEY_PREFIX,
its keys deleted at the end), so it runs beside the test suite of the same or another checkout:

1. `migrate`, `collectstatic` and `check --deploy` (errors fail; the warnings docs/operating.md
   explains are listed);
2. every process of Procfile.production (gunicorn, one prefork worker per queue, beat), the
   vendor sandbox, and one more prefork worker whose runs ignore their soft time limit;
3. gunicorn serves the admin login and its CSS under a hashed name, compressed; `/healthz`
   answers 200 and names no internal host;
4. a sandbox connection's three streams are collected through the prefork workers;
5. a run past its hard time limit is killed, recorded as timed out, and its stream released:
   the next dispatch runs it again.

Everything it started is stopped, on success, failure or Ctrl-C. Exit status 0 when all pass.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta as td
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    import requests

    from integrations.models import VendorConnection

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/switchboard"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"
HARD_QUEUE = "prodcheck-hard-limit"
# What `check --deploy` may still warn about: TLS ends at the proxy (docs/operating.md).
EXPLAINED_WARNINGS = {"security.W004", "security.W008"}


class CheckFailed(Exception):
    pass


def say(status: str, text: str) -> None:
    print(f"{status:>4}  {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, condition: Callable[[], T | None], seconds: float) -> T:
    deadline = time.monotonic() + seconds
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:  # not up yet: retry until the deadline
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(0.5)
    detail = f" (last error: {type(last_error).__name__}: {last_error})" if last_error else ""
    raise CheckFailed(f"{what} within {seconds:.0f} s{detail}")


class Stack:
    """The processes started, each in its own process group, stopped in reverse order."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((name, process))

    def alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
                raise CheckFailed(f"{name} exited with status {process.returncode}:\n{tail}")

    def stop(self) -> None:
        for _name, process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for _name, process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def procfile(path: Path) -> list[tuple[str, str]]:
    entries = []
    for line in path.read_text().splitlines():
        if match := re.match(r"^([A-Za-z0-9_-]+):\s*(.+)$", line):
            entries.append((match[1], match[2]))
    return entries


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def recreate_database(database_url: str, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def forget_redis_keys(broker_url: str, prefix: str) -> int:
    import redis

    client = redis.Redis.from_url(broker_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    return len(keys)


def unreachable(database_url: str, broker_url: str) -> str | None:
    """One line naming a server that does not answer, or None."""
    import psycopg
    import redis

    parts = urlsplit(database_url)
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", parts.query, ""))
    try:
        psycopg.connect(admin, connect_timeout=5).close()
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0]
        return f"PostgreSQL does not answer at {parts.hostname}:{parts.port or 5432}: {first}"
    try:
        redis.Redis.from_url(broker_url, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis does not answer at {urlsplit(broker_url).netloc.rpartition('@')[2]}: {exc}"
    return None


def environment(database_url: str, broker_url: str, prefix: str, work: Path, web_port: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_KEY_PREFIX": prefix,
        "VAR_DIR": str(work / "var"),
        "STATIC_ROOT": str(work / "static"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The vendor sandbox listens on loopback, which the egress policy refuses unless allowed.
        "VENDOR_EGRESS_ALLOW": "127.0.0.1/32",
        "SITE_URL": "https://switchboard.example.com",
        # Never contacted unless a health flip is mailed; nothing listens there.
        "EMAIL_URL": f"smtp://127.0.0.1:{free_port()}",
        "WEB_BIND": f"127.0.0.1:{web_port}",
        "WEB_WORKERS": "2",
        "AGENT_STATES_CONCURRENCY": "1",
        "HISTORY_CONCURRENCY": "1",
        "CONFIG_CONCURRENCY": "1",
        "DEFAULT_CONCURRENCY": "1",
        "DJANGO_SETTINGS_MODULE": "wfm_site.settings",
        "PYTHONPATH": str(ROOT),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    (work / "var").mkdir(parents=True, exist_ok=True)
    return env


def check_deploy(env: dict[str, str]) -> None:
    done = manage(env, "check", "--deploy")
    if done.returncode != 0:
        raise CheckFailed(f"check --deploy failed:\n{done.stderr}")
    warnings = set(re.findall(r"\((security\.W\d+|switchboard\.W\d+)\)", done.stderr + done.stdout))
    unexplained = warnings - EXPLAINED_WARNINGS
    if unexplained:
        raise CheckFailed(f"check --deploy warns of what docs/operating.md does not explain: {unexplained}")
    say("ok", f"check --deploy: no errors; warnings {sorted(warnings)} (TLS ends at the proxy)")


def check_web(base: str) -> None:
    import requests

    page = wait_for("gunicorn to serve /admin/login/", lambda: _get_ok(f"{base}/admin/login/"), 60)
    match = re.search(r'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', page.text)
    if not match:
        raise CheckFailed("the admin login links no hashed base.css")
    css = requests.get(base + match[1], headers={"Accept-Encoding": "gzip"}, timeout=10)
    if css.status_code != 200 or not css.headers.get("Content-Type", "").startswith("text/css"):
        raise CheckFailed(f"{match[1]} answered {css.status_code} {css.headers.get('Content-Type')}")
    if css.headers.get("Content-Encoding") != "gzip" or "max-age=315360000" not in css.headers.get(
        "Cache-Control", ""
    ):
        raise CheckFailed(f"{match[1]} is not served compressed and cached forever: {dict(css.headers)}")
    say("ok", f"gunicorn: /admin/login/ 200, {match[1]} 200 (gzip, cached forever)")


def _get_ok(url: str) -> requests.Response | None:
    import requests

    response = requests.get(url, timeout=5)
    return response if response.status_code == 200 else None


def check_healthz(base: str, hidden: list[str]) -> None:
    response = wait_for("/healthz to answer 200", lambda: _get_ok(f"{base}/healthz"), 90)
    shown = [h for h in hidden if h and h in response.text]
    if shown:
        raise CheckFailed(f"/healthz shows internal addresses {shown}: {response.text}")
    say("ok", "/healthz 200: database, broker, dispatcher and worker all answer; no host or port shown")


def seed(sandbox_port: int) -> list[VendorConnection]:
    """A tenant with two 8x8 connections on the sandbox: one collected by beat now, one kept for
    the hard-limit check (its streams not due)."""
    from django.utils import timezone

    from collectors.models import CollectionSchedule
    from integrations.models import Tenant, VendorConnection

    tenant = Tenant.objects.create(name="Prod check", slug="prodcheck", time_zone="America/Chicago")
    made = []
    for name in ("collected", "overruns"):
        conn = VendorConnection(tenant=tenant, vendor="8x8", name=name)
        conn.apply_vendor_defaults()
        conn.realtime_base_url = f"http://127.0.0.1:{sandbox_port}/8x8/api/"
        conn.set_values("realtime", {"tenant": "demo", "token": "sandbox-8x8-token"})
        conn.full_clean()
        conn.save()
        made.append(conn)
    now = timezone.now()
    CollectionSchedule.objects.filter(connection=made[0]).update(next_run_at=now)
    CollectionSchedule.objects.filter(connection=made[1]).update(next_run_at=now + td(days=1))
    return made


def check_collection(conn: VendorConnection, logs: Path) -> None:
    from collectors.models import CollectionRun

    def all_streams_ok() -> bool:
        ok = set(
            CollectionRun.objects.filter(connection=conn, status=CollectionRun.OK).values_list(
                "stream", flat=True
            )
        )
        return ok >= {"agent_states", "volume", "config"}

    wait_for("the sandbox connection's three streams to be collected", all_streams_ok, 120)
    for queue in ("agent_states", "history", "config"):
        text = (logs / f"{queue}.log").read_text(errors="replace")
        # A prefork pool runs every task in a child: the banner names the pool, and history and
        # configuration runs log their outcome from the child (a successful poll logs at DEBUG).
        forked = queue == "agent_states" or "ForkPoolWorker" in text
        if not forked or "concurrency: 1 (prefork)" not in text:
            raise CheckFailed(f"the {queue} worker did not run its task in a prefork child")
    say("ok", "collected agent_states, volume and config through the prefork workers of their queues")


def check_hard_limit(conn: VendorConnection, logs: Path) -> None:
    from django.utils import timezone

    from collectors.models import CollectionRun, CollectionSchedule
    from collectors.runs import take_lease
    from collectors.tasks import collect

    schedule = CollectionSchedule.objects.get(connection=conn, stream="agent_states")
    now = timezone.now()
    lease = take_lease(schedule, now)
    start = now.replace(microsecond=0)
    collect.apply_async(
        args=(schedule.pk, start.isoformat(), (start + td(seconds=30)).isoformat()),
        kwargs={"lease_id": lease},
        queue=HARD_QUEUE,
        task_id=f"prodcheck-hard-limit:{schedule.pk}",
        soft_time_limit=1,
        time_limit=2,
    )
    run = wait_for(
        "the overrunning run to be killed and recorded as timed out",
        lambda: CollectionRun.objects.filter(connection=conn, status=CollectionRun.TIMED_OUT).first(),
        60,
    )
    if "Hard time limit (2s) exceeded" not in (logs / "hard-limit.log").read_text(errors="replace"):
        raise CheckFailed("the worker's log does not show the hard time limit")
    schedule.refresh_from_db()
    if schedule.lease_id or schedule.lease_until:
        raise CheckFailed(f"the timed-out run's stream is still leased ({schedule.lease_id})")
    say("ok", f"a run past its 2 s hard limit was killed and recorded: {run.status}, {run.error_message}")
    CollectionSchedule.objects.filter(pk=schedule.pk).update(next_run_at=timezone.now())
    wait_for(
        "the released stream to be dispatched and collected again",
        lambda: CollectionRun.objects.filter(connection=conn, status=CollectionRun.OK).exists(),
        60,
    )
    say("ok", "its stream was free: the next dispatch collected it again")


def main() -> int:
    database_base = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    broker_url = os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER_URL
    if not database_base.startswith(("postgres://", "postgresql://")) or not broker_url.startswith("redis"):
        print(
            "prod-check needs PostgreSQL and Redis: set DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://..."
        )
        return 2
    parts = urlsplit(database_base)
    name = f"{parts.path.lstrip('/') or 'switchboard'}_prodcheck"
    database_url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))
    prefix = f"{name}:"
    problem = unreachable(database_base, broker_url)
    if problem:
        print(f"prod-check: {problem}")
        return 2
    work = Path(tempfile.mkdtemp(prefix="switchboard-prodcheck-"))
    logs = work / "logs"
    logs.mkdir()
    web_port, sandbox_port = free_port(), free_port()
    env = environment(database_url, broker_url, prefix, work, web_port)
    stack = Stack(env, logs)
    passed = False

    def interrupted(signum: int, frame: FrameType | None) -> NoReturn:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    print(f"prod-check: database {name}, Redis key prefix {prefix!r}, logs in {logs}", flush=True)
    try:
        recreate_database(database_url)
        for step in (("migrate", "--no-input"), ("collectstatic", "--no-input")):
            done = manage(env, *step)
            if done.returncode != 0:
                raise CheckFailed(f"{' '.join(step)} failed:\n{done.stderr[-3000:]}")
        say("ok", "migrate and collectstatic")
        check_deploy(env)

        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        collected, overruns = seed(sandbox_port)

        stack.start("sandbox", f"python manage.py sandbox --port {sandbox_port} --no-drop --backfill-hours 0")
        for process, command in procfile(ROOT / "Procfile.production"):
            stack.start(process, command)
        stack.start(
            "hard-limit",
            "celery -A tests.collectors.stubborn_worker worker --pool=prefork --concurrency=1 "
            f"-Q {HARD_QUEUE} -n hard-limit@%h --loglevel=INFO",
        )
        base = f"http://127.0.0.1:{web_port}"
        check_web(base)
        stack.alive()
        check_collection(collected, logs)
        check_healthz(base, [urlsplit(database_base).hostname or "", str(parts.port or 5432), "redis://"])
        check_hard_limit(overruns, logs)
        stack.alive()
        passed = True
    except CheckFailed as exc:
        say("FAIL", str(exc))
    except KeyboardInterrupt:
        say("STOP", "interrupted")
    finally:
        stack.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # Django was never set up
            pass
        try:
            recreate_database(database_url, drop_only=True)
            forget_redis_keys(broker_url, prefix)
        except Exception as exc:  # say what is left behind, keep the first error visible
            print(f"prod-check: could not remove database {name} or keys {prefix}*: {exc}", flush=True)
        if passed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"prod-check: logs kept in {logs}", flush=True)
    print("prod-check: passed" if passed else "prod-check: FAILED", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
