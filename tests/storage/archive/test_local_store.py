"""What only the local folder store does: read-only files, atomic versions, safe keys."""

from __future__ import annotations

import datetime as dt
import stat

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
