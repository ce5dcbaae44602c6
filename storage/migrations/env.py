"""Alembic environment: runs migrations on the engine handed over in the config.

Concurrent upgrades are serialised: PostgreSQL takes an advisory lock, SQLite's
transaction starts with BEGIN IMMEDIATE (storage.database).
"""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import models.tables  # noqa: F401 - registers the tables on SQLModel.metadata

_MIGRATION_LOCK = 0x60A6_7E4E


def run() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            context.run_migrations()


run()
