"""Settings for the benchmarks: the site's own, plus django-celery-beat for the reference scheduler.

The environment is filled in by `bench.services.bench_environment()` before Django loads:
a database and a Redis db of the benchmarks' own, so a run never touches anyone's data.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktYmU=")

from wfm_site.settings import *  # noqa: F403
from wfm_site.settings import INSTALLED_APPS, LOGGING

INSTALLED_APPS = [*INSTALLED_APPS, "django_celery_beat"]
# A benchmark measures work, not log formatting.
LOGGING = {**LOGGING, "root": {**LOGGING["root"], "level": os.environ.get("BENCH_LOG_LEVEL", "WARNING")}}
