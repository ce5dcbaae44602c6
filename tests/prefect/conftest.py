"""Fixtures for the tests that run against a real Prefect server (``gongwen server``).

These start real servers and flow-run processes, so they live in their own folder:
the rest of the suite stays fast. Flow runs executed in this test process run
with the flow heartbeat off (design.md §6); served runs are subprocesses of the
server and keep Prefect's default heartbeat (an environment variable cannot turn it off).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete

from models.directory import Directory
from models.tables import PinFailure
from tests.prefect.served import Served


@pytest.fixture(autouse=True)
def _wrong_pins_forgotten(request: pytest.FixtureRequest) -> Iterator[None]:
    """The shared server's wrong PINs are forgotten after each test that used it: the tests of refusals give
    李红梅's and 郭佳佳's PINs wrong a few times each, together more than the PIN lockout allows (storage.pin_lockout)."""
    yield
    if "served" in request.fixturenames:
        app = request.getfixturevalue("served").app
        with app.db.transaction() as session:
            session.exec(delete(PinFailure))
        app.close()


@pytest.fixture(scope="session")
def served(tmp_path_factory, kaifeng: Directory) -> Iterator[Served]:
    """One server shared by the tests that do not stop it."""
    server = Served(tmp_path_factory.mktemp("served"))
    server.load(kaifeng)
    server.start()
    yield server
    server.stop()
