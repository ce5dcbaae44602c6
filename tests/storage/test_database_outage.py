"""A PostgreSQL server that crashes and comes back: ServiceUnavailable while it is down (transactions
and 登记's own psycopg pipeline), the same Database (its pool) works again afterwards, and the CLI
exits 4 naming the database, no traceback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from models.errors import ServiceUnavailable
from storage import registration
from storage.database import Database
from storage.migrations import upgrade
from tests.gongwen.cli_runner import run_json
from tests.servers.postgres import PrivatePostgres, running_postgres
from tests.storage.helpers import load, signed_document


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres(server: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The module's server, running at the start of each test."""
    yield server
    if not server.up:
        server.start()


def one(db: Database) -> int:
    with db.transaction() as session:
        return session.connection().execute(text("SELECT 1")).scalar_one()


def test_a_crashed_server_is_unavailable_and_the_pool_recovers_when_it_is_back(postgres):
    db = Database.from_url(postgres.url)
    assert one(db) == 1
    postgres.crash()
    with pytest.raises(ServiceUnavailable) as down:
        one(db)
    assert down.value.field == "database"
    postgres.start()
    assert one(db) == 1
    db.dispose()


def test_a_transaction_cut_by_the_crash_is_unavailable_and_rolled_back(postgres):
    db = Database.from_url(postgres.url)
    with db.transaction() as session:
        session.connection().execute(text("CREATE TABLE IF NOT EXISTS kept (n int)"))
    with pytest.raises(ServiceUnavailable), db.transaction() as session:
        session.connection().execute(text("INSERT INTO kept VALUES (1)"))
        postgres.crash()
        session.connection().execute(text("INSERT INTO kept VALUES (2)"))
    postgres.start()
    with db.transaction() as session:
        assert session.connection().execute(text("SELECT count(*) FROM kept")).scalar_one() == 0
    db.dispose()


def test_registration_on_a_crashed_server_is_unavailable_and_takes_its_number_once_it_is_back(
    postgres, kaifeng, notice, pins
):
    """登记 speaks psycopg itself (one pipeline): a crashed server is ServiceUnavailable there too."""
    db = Database.from_url(postgres.url)
    upgrade(db.engine)
    load(db, kaifeng)
    document = signed_document(db, notice, pins)
    postgres.crash()
    with pytest.raises(ServiceUnavailable):
        registration.register(db, document_id=document.id)
    postgres.start()
    assert registration.register(db, document_id=document.id).serial == 3  # the directory's counter is at 2
    db.dispose()


def test_the_cli_exits_4_naming_the_database_when_it_is_down(postgres, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("GONGWEN_DATABASE_URL", postgres.url)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    postgres.crash()
    code, result = run_json(capsys, tmp_path, "show", "1")
    assert (code, result["field"]) == (4, "database"), result
    assert "数据库" in result["error"]
