"""Alembic migrations: applied automatically, idempotent, and matching the SQLModel tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from storage.migrations import alembic_config, current_revision, upgrade


def test_the_schema_is_at_head_and_matches_the_models(db):
    head = ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
    assert current_revision(db.engine) == head
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_upgrading_twice_changes_nothing(db):
    upgrade(db.engine)
    assert current_revision(db.engine) == ScriptDirectory.from_config(alembic_config(db.engine)).get_current_head()
