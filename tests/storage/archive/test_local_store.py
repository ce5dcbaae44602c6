"""What only the local folder store does: read-only files, atomic versions, safe keys."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
import sys

import pytest

from models.errors import InputError
from storage.archive.base import Lock
from storage.archive.local import LocalArchiveStore

LONG = Lock("COMPLIANCE", dt.datetime.now(dt.UTC) + dt.timedelta(days=365))


def test_stored_files_are_read_only(tmp_path):
    store = LocalArchiveStore(tmp_path)
    stored = store.put("k/f", b"data", metadata={}, lock=LONG)
    data = tmp_path / "objects" / "k" / "f" / stored.version_id / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o444


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../b", "a//b", "a\\b", "a/\x00b", ""])
def test_unsafe_keys_are_refused(tmp_path, key):
    with pytest.raises(InputError):
        LocalArchiveStore(tmp_path).put(key, b"x", metadata={}, lock=LONG)
    assert not (tmp_path.parent / "escape").exists()


def test_no_staging_leftovers_after_a_put(tmp_path):
    store = LocalArchiveStore(tmp_path)
    store.put("k/f", b"data", metadata={}, lock=LONG)
    assert list((tmp_path / "staging").iterdir()) == []


def test_a_put_removes_what_a_writer_killed_mid_put_left_in_staging_and_keeps_a_running_writers(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = tmp_path / "staging" / f"{gone.stdout.strip()}-01795573305662441151-39ab01cd"
    running = tmp_path / "staging" / f"{os.getpid()}-01795573305662441152-45f01c98"
    for folder in (abandoned, running):
        folder.mkdir(parents=True)
        (folder / "data").write_bytes(b"half a vers")
        (folder / "data").chmod(0o444)
    LocalArchiveStore(tmp_path).put("k/f", b"data", metadata={}, lock=LONG)
    assert list((tmp_path / "staging").iterdir()) == [running]
