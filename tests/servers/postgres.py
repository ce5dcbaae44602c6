"""A private PostgreSQL 15 server for tests that stop it: the shared one at 127.0.0.1:5432 must stay up.

    with running_postgres() as server:
        Database.from_url(server.url)
        server.crash()   # pg_ctl stop -m immediate: every connection cut, no checkpoint
        server.start()   # recovers from its WAL

Runs as the ``postgres`` user (initdb and postgres refuse root) in a folder of its own under the
system's temporary folder, on a free port of 127.0.0.1, with fsync off: a crash of the server process
loses nothing the operating system was given, so the crash is the same, only faster.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.servers.smtp import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*command: str) -> None:
    """initdb and postgres refuse to run as root: run them as the ``postgres`` user."""
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)


class PrivatePostgres:
    """A PostgreSQL 15 instance of its own, in a temporary folder, on a free port of 127.0.0.1.

    ``crash`` stops it as a power cut would (``pg_ctl stop -m immediate``: no checkpoint, every
    connection cut); ``start`` brings it back, recovering from its WAL.
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="gongwen-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.port = free_port()
        self.data = self.folder / "data"
        self.up = False
        _as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=60 -c fsync=off"
        _as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )
        self.up = True

    def crash(self) -> None:
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self.up = False

    def remove(self) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def running_postgres() -> Iterator[PrivatePostgres]:
    """A started private server, removed at the end."""
    server = PrivatePostgres()
    try:
        server.start()
        yield server
    finally:
        server.remove()
