"""Loaded with `-p tests.testenv`, before pytest-django imports the settings.

Tests never need real secrets; production-only checks are tested by overriding these.
"""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# Two keys, so rotation is exercised: the first encrypts, both decrypt.
os.environ.setdefault(
    "FIELD_ENCRYPTION_KEYS",
    "dGVzdC1rZXktb25lLXRlc3Qta2V5LW9uZS10ZXN0LWs=,dGVzdC1rZXktdHdvLXRlc3Qta2V5LXR3by10ZXN0LWs=",
)
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
