"""The embedded archive: a folder with the guarantees of an object-locked bucket.

Layout: ``<root>/objects/<key>/<version id>`` is one version: a read-only (0444) file holding the
bytes as put, its metadata and lock (JSON) in the file's extended attribute ``user.gongwen`` — so one
fsync makes both durable and an auditor's link is the file itself. A version is written as one file
under ``<root>/staging`` named after the writing process, flushed to disk and renamed into place in
one step, so a crash never leaves half a version. What a writer killed mid-put left in staging is
removed when a store is opened on the folder (every process that archives opens one), never by a
put. Versions written before (a ``<version id>/`` folder holding ``data`` and ``meta.json``) are read,
listed and deleted alike. ``put`` on an existing key adds a version; nothing is ever overwritten.
``delete`` refuses a version under retention or legal hold. These guarantees hold for every caller
going through this class; the operating system's root user can still remove files, which is why
production uses an S3 server with object lock. A copy of the folder must keep extended attributes
(``cp -a``, ``rsync -aX``): a version without its attribute fails 四性检测.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import time
import uuid
from pathlib import Path

from models.errors import ArchiveLocked, InputError, NotFound, VerificationFailed
from models.processes import running
from storage.archive.base import Lock, StoredVersion, check_metadata

_READ_ONLY = 0o444
#: The extended attribute holding a version's metadata and lock.
_ATTRIBUTE = "user.gongwen"
#: Its largest size in bytes: what every file system with user attributes holds (ext4: one 4 KB block in all).
_ATTRIBUTE_LIMIT = 2048
_VERSION_ID = re.compile(r"\d{20}-[0-9a-f]{8}")
_CONTROL = re.compile(r"[\x00-\x1f]")
#: The files of a version folder in the earlier layout.
_FOLDER_DATA, _FOLDER_META = "data", "meta.json"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_key(key: str) -> str:
    """Object keys are relative paths without '..', backslashes or control characters."""
    parts = key.split("/")
    if not key or key.startswith("/") or "\\" in key or any(p in ("", ".", "..") for p in parts):
        raise InputError(f"对象键「{key}」不合法", "key")
    if _CONTROL.search(key):
        raise InputError("对象键含控制字符", "key")
    return key


class LocalArchiveStore:
    """A write-once, versioned, retention-locked archive in a local folder."""

    def __init__(self, root: Path, clock=_now) -> None:
        self.root = Path(root)
        self._objects = self.root / "objects"
        self._staging = self.root / "staging"
        self._clock = clock
        self._remove_abandoned()

    def _key_dir(self, key: str) -> Path:
        return self._objects / check_key(key)

    def put(self, key: str, data: bytes, *, metadata: dict[str, str], lock: Lock) -> StoredVersion:
        key_dir = self._key_dir(key)
        version_id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        meta = {
            "metadata": check_metadata(metadata),
            "lock": {"mode": lock.mode, "until": lock.until.isoformat(), "legal_hold": lock.legal_hold},
            "size": len(data),
            "stored_at": self._clock().isoformat(),
        }
        encoded = json.dumps(meta, ensure_ascii=False).encode()
        if len(encoded) > _ATTRIBUTE_LIMIT:
            raise InputError(f"元数据过长（{len(encoded)} 字节），本地归档库最多 {_ATTRIBUTE_LIMIT} 字节", "metadata")
        staged = self._staging / f"{os.getpid()}-{version_id}"
        try:
            self._write(staged, data, encoded)
            key_dir.mkdir(parents=True, exist_ok=True)
            os.rename(staged, key_dir / version_id)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return _stored(key, version_id, meta)

    def _write(self, staged: Path, data: bytes, meta: bytes) -> None:
        """The staged version: its bytes and metadata flushed to disk by one fsync."""
        try:
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _READ_ONLY)
        except FileNotFoundError:
            self._staging.mkdir(parents=True, exist_ok=True)
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _READ_ONLY)
        with open(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            try:
                os.setxattr(fd, _ATTRIBUTE, meta)
            except OSError as error:
                if error.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise InputError(
                        f"归档目录 {self.root} 所在的文件系统不支持扩展属性（user.*），本地归档库用它保存元数据；"
                        "请把 GONGWEN_HOME 放在 ext4、XFS、Btrfs 等文件系统上",
                        "GONGWEN_HOME",
                    ) from None
                raise
            os.fsync(fd)

    def _remove_abandoned(self) -> None:
        """Remove what writers no longer running (killed in the middle of a put) left in staging."""
        if not self._staging.is_dir():
            return
        for staged in self._staging.iterdir():
            writer = staged.name.partition("-")[0]
            if writer.isdigit() and not running(int(writer)):
                if staged.is_dir():  # a version folder of the earlier layout
                    shutil.rmtree(staged, ignore_errors=True)
                else:
                    staged.unlink(missing_ok=True)

    def _version_path(self, key: str, version_id: str | None) -> tuple[str, Path]:
        key_dir = self._key_dir(key)
        ids = sorted(p.name for p in key_dir.iterdir() if _VERSION_ID.fullmatch(p.name)) if key_dir.is_dir() else []
        if version_id is None:
            if not ids:
                raise NotFound(f"归档库中没有「{key}」", "key")
            version_id = ids[-1]
        elif version_id not in ids:
            raise NotFound(f"归档库中没有「{key}」的版本 {version_id}", "version")
        return version_id, key_dir / version_id

    def _version(self, key: str, version_id: str) -> StoredVersion:
        path = self._key_dir(key) / version_id
        if path.is_dir():
            return _stored(key, version_id, json.loads((path / _FOLDER_META).read_text(encoding="utf-8")))
        try:
            meta = os.getxattr(path, _ATTRIBUTE)
        except OSError as error:
            if error.errno not in (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP):
                raise
            raise VerificationFailed(
                f"「{key}」的版本 {version_id} 缺少元数据（扩展属性 {_ATTRIBUTE}；复制归档目录须保留扩展属性）", "key"
            ) from None
        return _stored(key, version_id, json.loads(meta))

    def get(self, key: str, version_id: str | None = None) -> bytes:
        _, path = self._version_path(key, version_id)
        return _data_file(path).read_bytes()

    def stat(self, key: str, version_id: str | None = None) -> StoredVersion:
        version_id, _ = self._version_path(key, version_id)
        return self._version(key, version_id)

    def versions(self, prefix: str) -> list[StoredVersion]:
        """Every version of every key starting with ``prefix``; only the folders under the prefix's
        last complete path segment are walked, so the cost does not grow with the archive."""
        parent = prefix.rpartition("/")[0]
        base = self._key_dir(parent) if parent else self._objects
        found = []
        for folder, subfolders, files in os.walk(base):
            # a version folder of the earlier layout is a version, not a key: not walked into
            earlier = [
                d for d in subfolders if _VERSION_ID.fullmatch(d) and os.path.isfile(Path(folder, d, _FOLDER_META))
            ]
            subfolders[:] = [d for d in subfolders if d not in earlier]
            key = Path(folder).relative_to(self._objects).as_posix()
            if key != "." and key.startswith(prefix):
                ids = [name for name in files if _VERSION_ID.fullmatch(name)] + earlier
                found += [self._version(key, version_id) for version_id in ids]
        return sorted(found, key=lambda version: (version.key, version.version_id))

    def delete(self, key: str, version_id: str) -> None:
        version_id, path = self._version_path(key, version_id)
        lock = self._version(key, version_id).lock
        if lock is not None and lock.active(self._clock()):
            held = "法律保留" if lock.legal_hold else f"保留期至 {lock.until:%Y-%m-%d}"
            raise ArchiveLocked(f"「{key}」的版本 {version_id} 处于{held}，不能删除", "key")
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    def link(self, key: str, version_id: str, expires: dt.timedelta) -> str:
        """A file:// link; a local folder cannot limit it in time (S3 links can)."""
        _, path = self._version_path(key, version_id)
        return _data_file(path).resolve().as_uri()


def _data_file(path: Path) -> Path:
    """The file holding a version's bytes: the version itself, or ``data`` in an earlier version folder."""
    return path / _FOLDER_DATA if path.is_dir() else path


def _stored(key: str, version_id: str, meta: dict) -> StoredVersion:
    lock = meta["lock"]
    return StoredVersion(
        key=key,
        version_id=version_id,
        size=meta["size"],
        metadata=dict(meta["metadata"]),
        lock=Lock(lock["mode"], dt.datetime.fromisoformat(lock["until"]), lock["legal_hold"]),
    )
