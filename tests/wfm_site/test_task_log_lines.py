"""Celery's two lines per task ("received", "succeeded") are off unless LOG_LEVEL=DEBUG.

Every run logs its own outcome; at 100 polls a second Celery's lines were noise and CPU.
Probed in a fresh process: what the loggers say once Django has configured logging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.wfm_site.test_settings import ROOT

PROBE = (
    "import django, json, logging; django.setup(); "
    "print(json.dumps({name: logging.getLogger(name).isEnabledFor(logging.INFO) "
    "for name in ('celery.app.trace', 'celery.worker.strategy', 'collectors.runs')}))"
)


def info_enabled(tmp_path, level: str) -> dict[str, bool]:
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "wfm_site.settings",
        "VAR_DIR": str(tmp_path),
        "DEBUG": "true",
        "LOG_LEVEL": level,
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.splitlines()[-1])


def test_celery_task_lines_are_off_at_info(tmp_path):
    enabled = info_enabled(tmp_path, "INFO")
    assert enabled["collectors.runs"] is True
    assert enabled["celery.app.trace"] is False
    assert enabled["celery.worker.strategy"] is False


def test_celery_task_lines_are_back_at_debug(tmp_path):
    enabled = info_enabled(tmp_path, "DEBUG")
    assert enabled["celery.app.trace"] is True
    assert enabled["celery.worker.strategy"] is True
