"""Session fixtures for the archive tests: moto's S3 server and Ceph RGW, each started once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.requirements import module, need
from tests.servers.rgw import RgwServer, rgw_missing, running_rgw
from tests.storage.archive.s3_servers import S3Endpoint


@pytest.fixture(scope="session")
def moto_server() -> Iterator[S3Endpoint]:
    """moto's S3 server on 127.0.0.1, in a thread: fast, but it enforces neither signatures,
    link expiry nor COMPLIANCE against shortening (design.md §6)."""
    server_module = module("moto.server", "moto[server] is not installed (pip install -e '.[test]')")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Endpoint(f"{host}:{port}", "testing", "testing")
    server.stop()


@pytest.fixture(scope="session")
def rgw_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RgwServer]:
    """Ceph RGW (tests/servers/rgw.py): the real S3 server; skipped (failed in CI) when not installed."""
    need(rgw_missing())
    with running_rgw(tmp_path_factory.mktemp("rgw")) as server:
        yield server
