"""Fixtures shared by the integrations tests; each *kit module documents its own.

egresskit: `internal` and `elsewhere`, real HTTP servers on 127.0.0.1 that record requests.
"""

from __future__ import annotations

from tests.integrations.egresskit import elsewhere, internal  # noqa: F401
