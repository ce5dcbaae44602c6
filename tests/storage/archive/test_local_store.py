"""What only the local folder store does: read-only files, atomic versions, safe keys, the earlier layout."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys

import pytest

from models.errors import ArchiveLocked, InputError, VerificationFailed
from storage.archive.base import Lock, StoredVersion
from storage.archive.local import LocalArchiveStore

LONG = Lock("COMPLIANCE", dt.datetime.now(dt.UTC) + dt.timedelta(days=365))


def test_stored_files_are_read_only(tmp_path):
    store = LocalArchiveStore(tmp_path)
    stored = store.put("k/f", b"data", metadata={}, lock=LONG)
    data = tmp_path / "objects" / "k" / "f" / stored.version_id
    assert stat.S_IMODE(data.stat().st_mode) == 0o444
    assert data.read_bytes() == b"data"


@pytest.mark.parametrize("key", ["../escape", "/abs", "a/../b", "a//b", "a\\b", "a/\x00b", ""])
def test_unsafe_keys_are_refused(tmp_path, key):
    with pytest.raises(InputError):
        LocalArchiveStore(tmp_path).put(key, b"x", metadata={}, lock=LONG)
    assert not (tmp_path.parent / "escape").exists()


def test_no_staging_leftovers_after_a_put(tmp_path):
    store = LocalArchiveStore(tmp_path)
    store.put("k/f", b"data", metadata={}, lock=LONG)
    assert list((tmp_path / "staging").iterdir()) == []


def _staged_by(tmp_path, pid: int, name: str, *, folder: bool):
    """What a writer left in staging: a staged version file, or a version folder of the earlier layout."""
    staged = tmp_path / "staging" / f"{pid}-{name}"
    staged.parent.mkdir(parents=True, exist_ok=True)
    if folder:
        staged.mkdir()
        staged = staged / "data"
    staged.write_bytes(b"half a vers")
    staged.chmod(0o444)
    return tmp_path / "staging" / f"{pid}-{name}"


def test_opening_the_store_removes_what_writers_killed_mid_put_left_in_staging_and_keeps_a_running_writers(tmp_path):
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)
    abandoned = [
        _staged_by(tmp_path, gone, "01795573305662441151-39ab01cd", folder=False),
        _staged_by(tmp_path, gone, "01795573305662441150-0a1b2c3d", folder=True),
    ]
    running = _staged_by(tmp_path, os.getpid(), "01795573305662441152-45f01c98", folder=False)
    LocalArchiveStore(tmp_path)
    assert list((tmp_path / "staging").iterdir()) == [running]
    assert not any(path.exists() for path in abandoned)


def test_a_put_leaves_staging_alone(tmp_path):
    """Staging is swept when the store is opened, not by each put."""
    store = LocalArchiveStore(tmp_path)
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)
    abandoned = _staged_by(tmp_path, gone, "01795573305662441151-39ab01cd", folder=False)
    store.put("k/f", b"data", metadata={}, lock=LONG)
    assert list((tmp_path / "staging").iterdir()) == [abandoned]


def test_a_put_that_fails_after_staging_leaves_nothing_in_staging(tmp_path):
    store = LocalArchiveStore(tmp_path)
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "k").write_bytes(b"a file where the key's folder would go")
    with pytest.raises(OSError):
        store.put("k/f", b"data", metadata={}, lock=LONG)
    assert list((tmp_path / "staging").iterdir()) == []


def test_metadata_longer_than_the_attribute_holds_is_refused_naming_the_field(tmp_path):
    store = LocalArchiveStore(tmp_path)
    with pytest.raises(InputError) as refused:
        store.put("k/f", b"data", metadata={"note": "长" * 700}, lock=LONG)
    assert refused.value.field == "metadata" and "元数据过长" in refused.value.message
    assert store.versions("k/") == []


def test_a_version_copied_without_its_metadata_is_named(tmp_path):
    store = LocalArchiveStore(tmp_path)
    stored = store.put("k/f", b"data", metadata={"sha256": "x"}, lock=LONG)
    path = tmp_path / "objects" / "k" / "f" / stored.version_id
    os.removexattr(path, "user.gongwen")
    with pytest.raises(VerificationFailed) as missing:
        store.stat("k/f")
    assert stored.version_id in missing.value.message and "元数据" in missing.value.message
    assert store.get("k/f") == b"data"


def write_earlier_layout(root, key: str, version_id: str, data: bytes, metadata: dict[str, str], lock: Lock) -> None:
    """A version as the store wrote it before (``<version id>/`` with ``data`` and ``meta.json``)."""
    folder = root / "objects" / key / version_id
    folder.mkdir(parents=True)
    meta = {
        "metadata": metadata,
        "lock": {"mode": lock.mode, "until": lock.until.isoformat(), "legal_hold": lock.legal_hold},
        "size": len(data),
        "stored_at": "2025-01-02T03:04:05+00:00",
    }
    for name, content in (("data", data), ("meta.json", json.dumps(meta, ensure_ascii=False).encode())):
        (folder / name).write_bytes(content)
        (folder / name).chmod(0o444)


def test_versions_of_the_earlier_layout_are_read_listed_and_deleted_beside_new_ones(tmp_path):
    old = "01735689600000000000-0123abcd"
    write_earlier_layout(tmp_path, "p/f", old, b"earlier", {"archive_code": "档号"}, LONG)
    expired = Lock("COMPLIANCE", dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    write_earlier_layout(tmp_path, "p/g", "01735689600000000001-0123abcd", b"gone", {}, expired)
    store = LocalArchiveStore(tmp_path)
    new = store.put("p/f", b"later", metadata={"archive_code": "档号"}, lock=LONG)

    assert [(v.key, v.version_id) for v in store.versions("p/")] == [
        ("p/f", old),
        ("p/f", new.version_id),
        ("p/g", "01735689600000000001-0123abcd"),
    ]
    assert store.get("p/f", old) == b"earlier" and store.get("p/f") == b"later"
    assert store.stat("p/f", old) == StoredVersion("p/f", old, 7, {"archive_code": "档号"}, LONG)
    assert store.link("p/f", old, dt.timedelta(minutes=5)).endswith(f"/p/f/{old}/data")
    with pytest.raises(ArchiveLocked):
        store.delete("p/f", old)
    store.delete("p/g", "01735689600000000001-0123abcd")
    assert [v.key for v in store.versions("p/")] == ["p/f", "p/f"]
