"""Fixtures shared by the collectors tests; each *kit module documents its own.

enginekit: `fake` (a fake vendor adapter patched in for every vendor) and `eight` (an
8x8 connection, which has all three collected streams).
egresskit (tests/integrations): `internal`, a server on loopback that must never be reached.
"""

from __future__ import annotations

from tests.collectors.enginekit import eight, fake  # noqa: F401
from tests.integrations.egresskit import internal  # noqa: F401
