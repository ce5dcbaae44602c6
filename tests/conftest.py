"""Shared fixtures: databases (SQLite file, and PostgreSQL at 127.0.0.1:5432 in a fresh schema).

A developer's gongwen and Prefect settings do not reach the tests. Every ``GONGWEN_*`` and ``PREFECT_*``
variable of the environment pytest starts in is removed when this module is imported, before any test
module is (Prefect reads its settings once, when it is first imported, and nothing imported here imports
it); ``developer_settings_removed``, autouse, removes again for the length of each test any that code
of this process set since: an earlier test that ran ``gongwen server`` or ``gongwen demo`` in-process,
or a fixture of wider scope. A test sets what it needs with ``monkeypatch`` in its own fixtures, which
run after that; servers started for a module (tests/prefect/served.py, tests/deploy/prefect_stack.py)
get their settings in the environment passed to their processes, not through ``os.environ``.

Kept: the settings of the test suite itself (``TEST_SUITE_SETTINGS``), which gongwen does not read
(none is a field of gongwen.settings.Settings):

- ``GONGWEN_TEST_POSTGRES``: the PostgreSQL server the tests use (127.0.0.1:5432, database ``test``);
- ``GONGWEN_TEST_S3_ENDPOINT``, ``_ACCESS_KEY``, ``_SECRET_KEY``: a real MinIO for the archive contract;
- ``GONGWEN_TEST_SCREENSHOTS``: where tests/prefect keeps the UI screenshots;
- ``GONGWEN_LOAD_DOCUMENTS``: how many documents tests/reliability/test_load.py puts through;
- ``GONGWEN_CRASH_SEED``: replays a crash-injection run's draws;
- ``GONGWEN_REQUIRE_SERVERS``: ``1`` in CI, a missing server fails its tests (tests/servers/requirements.py).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from models.directory import Directory, parse_directory
from models.spec import DocumentSpec, parse_spec
from storage.database import Database, sqlite_url
from storage.migrations import upgrade
from tests.servers.requirements import REQUIRE_SERVERS, need, needs
from tests.servers.smtp import SMTP_LOGIN, SmtpServer
from tests.servers.tls import Certificates, make_certificates

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "kaifeng"
SETTING_PREFIXES = ("GONGWEN_", "PREFECT_")
TEST_SUITE_SETTINGS = frozenset(
    {
        "GONGWEN_TEST_POSTGRES",
        "GONGWEN_TEST_S3_ENDPOINT",
        "GONGWEN_TEST_S3_ACCESS_KEY",
        "GONGWEN_TEST_S3_SECRET_KEY",
        "GONGWEN_TEST_SCREENSHOTS",
        "GONGWEN_LOAD_DOCUMENTS",
        "GONGWEN_CRASH_SEED",
        REQUIRE_SERVERS,
    }
)


def developer_settings(environ: Mapping[str, str]) -> list[str]:
    """The gongwen and Prefect settings in ``environ`` that are not the test suite's own."""
    return sorted(name for name in environ if name.startswith(SETTING_PREFIXES) and name not in TEST_SUITE_SETTINGS)


if "prefect" in sys.modules:  # it would keep the settings it read at import
    raise RuntimeError("tests/conftest.py must clear the environment before Prefect is imported")
for _name in developer_settings(os.environ):
    del os.environ[_name]

PG_SERVER = os.environ.get("GONGWEN_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_available() -> bool:
    try:
        with create_engine(PG_SERVER, connect_args={"connect_timeout": 3}).connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means the server is not there
        return False


POSTGRES = _postgres_available()
POSTGRES_MISSING = None if POSTGRES else "PostgreSQL at 127.0.0.1:5432 is not running"
needs_postgres = needs(POSTGRES_MISSING)


@pytest.fixture(autouse=True)
def developer_settings_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No gongwen or Prefect setting set since this module's import reaches the test (see above)."""
    for name in developer_settings(os.environ):
        monkeypatch.delenv(name)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """``needs(reason)`` marks: skipped, or failed with GONGWEN_REQUIRE_SERVERS=1 (tests/servers/requirements.py)."""
    for mark in item.iter_markers("needs"):
        try:
            need(mark.args[0])
        except pytest.skip.Exception as skipped:
            skipped._use_item_location = True  # -rs names the test, as for skipif and a fixture's skip
            raise


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
    need(POSTGRES_MISSING)
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
