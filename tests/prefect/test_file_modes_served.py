"""What ``gongwen server`` and the Prefect server it starts write is private (gongwen.app.PRIVATE_UMASK): the
home 0700, gongwen.db and the Prefect server's prefect.db (with their -wal and -shm) 0600."""

from __future__ import annotations

import stat
from pathlib import Path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_home_and_both_databases_are_private(served):
    files = sorted([*served.home.glob("gongwen.db*"), *served.home.glob("prefect/prefect.db*")])
    assert {served.home / "gongwen.db", served.home / "prefect" / "prefect.db"} <= set(files)
    assert (_mode(served.home), _mode(served.home / "prefect")) == (0o700, 0o700)
    assert {str(f.relative_to(served.home)): _mode(f) for f in files} == {
        str(f.relative_to(served.home)): 0o600 for f in files
    }
