"""Production refuses to start without secrets; the embedded defaults need no server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; from django.conf import settings; django.setup(); "
    "print(json.dumps({'db': settings.DATABASES['default']['ENGINE'], "
    "'opts': settings.DATABASES['default'].get('OPTIONS', {}), 'broker': settings.CELERY_BROKER_URL, "
    "'email': settings.EMAIL_BACKEND}))"
)


def run_settings(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "wfm_site.settings",
        "VAR_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    proc = run_settings(tmp_path, FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode())
    assert proc.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in proc.stderr


def test_production_refuses_to_start_without_encryption_keys(tmp_path):
    proc = run_settings(tmp_path, SECRET_KEY="x" * 50)
    assert proc.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS must be set" in proc.stderr


def test_debug_runs_on_embedded_defaults_with_no_environment(tmp_path):
    proc = run_settings(tmp_path, DEBUG="true")
    assert proc.returncode == 0, proc.stderr
    probe = json.loads(proc.stdout)
    assert probe["db"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in probe["opts"]["init_command"]
    assert probe["opts"]["transaction_mode"] == "IMMEDIATE"
    assert probe["broker"] == "filesystem://"
    assert probe["email"] == "django.core.mail.backends.filebased.EmailBackend"


def test_environment_urls_select_postgres_redis_and_smtp(tmp_path):
    proc = run_settings(
        tmp_path,
        SECRET_KEY="x" * 50,
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://u@db.example:5432/sb",
        CELERY_BROKER_URL="redis://cache.example:6379/0",
        EMAIL_URL="smtp://mail.example:25",
    )
    assert proc.returncode == 0, proc.stderr
    probe = json.loads(proc.stdout)
    assert probe["db"] == "django.db.backends.postgresql"
    assert probe["broker"] == "redis://cache.example:6379/0"
    assert probe["email"] == "django.core.mail.backends.smtp.EmailBackend"
