"""A poll's success is logged at DEBUG (its run row records it); other runs' at INFO.

At 100 polls a second an INFO line per poll was noise in the worker's log, and CPU.
"""

from __future__ import annotations

import logging
from datetime import timedelta as td

import pytest

from collectors.models import CollectionSchedule
from collectors.runs import run_collection
from tests.collectors.enginekit import T0
from tests.collectors.test_poll_statements import poll

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake")]


def outcome_lines(caplog, stream):
    return [r for r in caplog.records if r.name == "collectors.runs" and f" {stream} ok:" in r.getMessage()]


def test_a_successful_poll_logs_nothing_at_info(eight, fake, caplog):
    with caplog.at_level(logging.INFO, logger="collectors.runs"):
        poll(eight, fake, T0)
    assert outcome_lines(caplog, "agent_states") == []


def test_a_successful_poll_is_logged_at_debug(eight, fake, caplog):
    with caplog.at_level(logging.DEBUG, logger="collectors.runs"):
        poll(eight, fake, T0 + td(seconds=30))
    (line,) = outcome_lines(caplog, "agent_states")
    assert line.levelno == logging.DEBUG


def test_a_successful_history_run_is_logged_at_info(eight, fake, caplog):
    schedule = CollectionSchedule.objects.get(connection=eight, stream="volume")
    with caplog.at_level(logging.INFO, logger="collectors.runs"):
        run_collection(schedule, now=T0)
    (line,) = outcome_lines(caplog, "volume")
    assert line.levelno == logging.INFO
