"""The embedded archive: a folder with the guarantees of an object-locked bucket.

Layout: ``<root>/objects/<key>/<version id>/`` holds ``data`` and ``meta.json``
(metadata and lock), both read-only (0444). A version is written into a
folder under ``<root>/staging`` named after the writing process, flushed to
disk, and renamed into place in one step, so a crash never leaves half a
version; what a writer killed mid-put left in staging is removed by the next
put. ``put`` on an existing key adds a version;
nothing is ever overwritten. ``delete`` refuses a version under retention or
legal hold. These guarantees hold for every caller going through this class;
the operating system's root user can still remove files, which is why
production uses an S3 server with object lock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from pathlib import Path

from models.errors import ArchiveLocked, InputError, NotFound
from models.processes import running
from storage.archive.base import Lock, StoredVersion, check_metadata

_READ_ONLY = 0o444


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_key(key: str) -> str:
    """Object keys are relative paths without '..', backslashes or control characters."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"对象键「{key}」不合法", "key")
    if any(ord(c) < 32 for c in key):
        raise InputError("对象键含控制字符", "key")
    return key


class LocalArchiveStore:
    """A write-once, versioned, retention-locked archive in a local folder."""

    def __init__(self, root: Path, clock=_now) -> None:
        self.root = Path(root)
        self._objects = self.root / "objects"
        self._staging = self.root / "staging"
        self._clock = clock

    def _key_dir(self, key: str) -> Path:
        return self._objects / check_key(key)

    def put(self, key: str, data: bytes, *, metadata: dict[str, str], lock: Lock) -> StoredVersion:
        key_dir = self._key_dir(key)
        version_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self._staging.mkdir(parents=True, exist_ok=True)
        self._remove_abandoned()
        staged = Path(self._staging / f"{os.getpid()}-{version_id}")
        staged.mkdir()
        meta = {
            "metadata": check_metadata(metadata),
            "lock": {"mode": lock.mode, "until": lock.until.isoformat(), "legal_hold": lock.legal_hold},
            "size": len(data),
            "stored_at": self._clock().isoformat(),
        }
        for name, content in (("data", data), ("meta.json", json.dumps(meta, ensure_ascii=False).encode())):
            path = staged / name
            with open(path, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            path.chmod(_READ_ONLY)
        key_dir.mkdir(parents=True, exist_ok=True)
        os.rename(staged, key_dir / version_id)
        return self._version(key, version_id)

    def _remove_abandoned(self) -> None:
        """Remove the staged folders of writers no longer running (killed in the middle of a put)."""
        for folder in self._staging.iterdir():
            writer = folder.name.partition("-")[0]
            if writer.isdigit() and not running(int(writer)):
                shutil.rmtree(folder, ignore_errors=True)

    def _version_dir(self, key: str, version_id: str | None) -> tuple[str, Path]:
        key_dir = self._key_dir(key)
        ids = sorted(p.name for p in key_dir.iterdir()) if key_dir.is_dir() else []
        if version_id is None:
            if not ids:
                raise NotFound(f"归档库中没有「{key}」", "key")
            version_id = ids[-1]
        elif version_id not in ids:
            raise NotFound(f"归档库中没有「{key}」的版本 {version_id}", "version")
        return version_id, key_dir / version_id

    def _version(self, key: str, version_id: str) -> StoredVersion:
        meta = json.loads((self._key_dir(key) / version_id / "meta.json").read_text(encoding="utf-8"))
        lock = meta["lock"]
        return StoredVersion(
            key=key,
            version_id=version_id,
            size=meta["size"],
            metadata=meta["metadata"],
            lock=Lock(lock["mode"], dt.datetime.fromisoformat(lock["until"]), lock["legal_hold"]),
        )

    def get(self, key: str, version_id: str | None = None) -> bytes:
        _, folder = self._version_dir(key, version_id)
        return (folder / "data").read_bytes()

    def stat(self, key: str, version_id: str | None = None) -> StoredVersion:
        version_id, _ = self._version_dir(key, version_id)
        return self._version(key, version_id)

    def versions(self, prefix: str) -> list[StoredVersion]:
        """Every version of every key starting with ``prefix``; only the folders under the prefix's
        last complete path segment are walked, so the cost does not grow with the archive."""
        parent = prefix.rpartition("/")[0]
        base = self._key_dir(parent) if parent else self._objects
        if not base.is_dir():
            return []
        found = []
        for meta in sorted(base.rglob("meta.json")):
            folder = meta.parent
            key = folder.parent.relative_to(self._objects).as_posix()
            if key.startswith(prefix):
                found.append(self._version(key, folder.name))
        return found

    def delete(self, key: str, version_id: str) -> None:
        version_id, folder = self._version_dir(key, version_id)
        lock = self._version(key, version_id).lock
        if lock is not None and lock.active(self._clock()):
            held = "法律保留" if lock.legal_hold else f"保留期至 {lock.until:%Y-%m-%d}"
            raise ArchiveLocked(f"「{key}」的版本 {version_id} 处于{held}，不能删除", "key")
        for path in folder.iterdir():
            path.chmod(0o644)
        shutil.rmtree(folder)

    def link(self, key: str, version_id: str, expires: dt.timedelta) -> str:
        """A file:// link; a local folder cannot limit it in time (S3 links can)."""
        _, folder = self._version_dir(key, version_id)
        return (folder / "data").resolve().as_uri()
