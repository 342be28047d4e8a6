"""The settings mypy's Django plugin loads: the real ones, with the test-only secrets.

The plugin imports the settings module to learn the installed apps and models; the real one
refuses to load without SECRET_KEY and FIELD_ENCRYPTION_KEYS when DEBUG is off.
"""

from __future__ import annotations

import tests.testenv  # noqa: F401  (sets the test-only secrets before the settings load)
from wfm_site.settings import *  # noqa: F403
