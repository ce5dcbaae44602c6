"""Shared fixtures: databases (SQLite file, and PostgreSQL at 127.0.0.1:5432 in a fresh schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from models.directory import Directory, parse_directory
from models.spec import DocumentSpec, parse_spec
from storage.database import Database, sqlite_url
from storage.migrations import upgrade
from tests.servers.smtp import SMTP_LOGIN, SmtpServer
from tests.servers.tls import Certificates, make_certificates

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "kaifeng"
# The CLI talks to a Prefect server when PREFECT_API_URL is set; tests that want one start their own
# (tests/prefect) and pass its address explicitly, so a developer's setting must not leak into the rest.
os.environ.pop("PREFECT_API_URL", None)
PG_SERVER = os.environ.get("GONGWEN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        with create_engine(PG_SERVER, connect_args={"connect_timeout": 3}).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means the server is not there
        return False


POSTGRES = _postgres_available()
needs_postgres = pytest.mark.skipif(not POSTGRES, reason="PostgreSQL at 127.0.0.1:5432 is not running")


def postgres_schema_url() -> tuple[str, str]:
    """A fresh schema on the test server and a URL whose search_path is it."""
    schema = f"gw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_SERVER)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, f"{PG_SERVER}?options=-csearch_path%3D{schema}"


def drop_postgres_schema(schema: str) -> None:
    admin = create_engine(PG_SERVER)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    db = Database.from_url(sqlite_url(tmp_path / "gongwen.db"))
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES:
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running")
    schema, url = postgres_schema_url()
    yield url
    drop_postgres_schema(schema)


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[Database]:
    db = Database.from_url(postgres_url)
    upgrade(db.engine)
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest) -> Database:
    """The same test on SQLite and on PostgreSQL."""
    return request.getfixturevalue(f"{'sqlite' if request.param == 'sqlite' else 'postgres'}_db")


@pytest.fixture(scope="session")
def directory_data() -> dict:
    return yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kaifeng(directory_data: dict) -> Directory:
    return parse_directory(directory_data)


@pytest.fixture(scope="session")
def pins(directory_data: dict) -> dict[str, str]:
    return {person["name"]: person["pin"] for person in directory_data["people"]}


@pytest.fixture(scope="session")
def notice() -> DocumentSpec:
    spec, _ = parse_spec(yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8")))
    return spec


def _running(server: SmtpServer) -> Iterator[SmtpServer]:
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """An aiosmtpd server on 127.0.0.1 that records what it receives (tests/servers/smtp.py)."""
    yield from _running(SmtpServer())


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 (tests/servers/tls.py)."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(params=["starttls", "ssl"])
def smtp_tls(request: pytest.FixtureRequest, certificates: Certificates) -> Iterator[SmtpServer]:
    """The recording server with TLS (STARTTLS required, or implicit TLS) and AUTH as ``SMTP_LOGIN``."""
    yield from _running(SmtpServer(request.param, certificates, login=SMTP_LOGIN))
