"""Each write path's SQL mechanics come from one backend module, chosen by the database in use."""

from __future__ import annotations

import pytest
from django.db import connection as db

from collectors import backends
from collectors.backends import agent_states_sql, intervals_orm, intervals_pg


@pytest.mark.parametrize(
    ("vendor", "merge"),
    [("postgresql", intervals_pg.merge), ("sqlite", intervals_orm.merge), ("mysql", intervals_orm.merge)],
)
def test_intervals_are_merged_by_copy_on_postgresql_and_by_the_orm_elsewhere(monkeypatch, vendor, merge):
    monkeypatch.setattr(db, "vendor", vendor)
    assert backends.merge_intervals() is merge


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_agent_states_are_written_by_the_same_multi_row_upsert_on_every_database(monkeypatch, vendor):
    monkeypatch.setattr(db, "vendor", vendor)
    assert backends.write_agent_states() is agent_states_sql.write


def test_every_registry_names_a_backend_for_any_other_database():
    for registry in (backends.MERGE_INTERVALS, backends.WRITE_AGENT_STATES):
        assert "" in registry
