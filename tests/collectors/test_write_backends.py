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
def test_agent_states_are_read_and_written_by_the_same_sql_on_every_database(monkeypatch, vendor):
    monkeypatch.setattr(db, "vendor", vendor)
    assert backends.read_agent_states() is agent_states_sql.read
    assert backends.write_agent_states() is agent_states_sql.write
    assert backends.agent_state_cursor_move() is agent_states_sql.cursor_move


def test_every_registry_names_a_backend_for_any_other_database():
    registries = [v for name, v in vars(backends).items() if name.isupper() and isinstance(v, dict)]
    assert len(registries) == 4
    for registry in registries:
        assert "" in registry
