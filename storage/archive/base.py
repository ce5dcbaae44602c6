"""The archive store interface and the value types it speaks in.

Guarantees every implementation gives (DA/T 70-2018 安全性):

- write once: ``put`` never replaces bytes; putting an existing key adds a new
  version and keeps the old one;
- retention: a version is locked until ``Lock.until`` (COMPLIANCE: for
  everyone; GOVERNANCE: same here, gongwen never bypasses) and while under
  legal hold; ``delete`` of a locked version raises ArchiveLocked;
- user metadata round-trips, including Chinese text (names: ``check_metadata``);
- an unreachable store raises ServiceUnavailable, never a half-written object.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal, Protocol

from models.errors import InputError

LockMode = Literal["COMPLIANCE", "GOVERNANCE"]
_METADATA_NAME = re.compile(r"[a-z][a-z0-9_]*")


def check_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """User metadata names are lower-case ASCII words (S3 servers fold case and RGW turns
    '_' into '-'); values are text, Chinese included."""
    for name in metadata:
        if not _METADATA_NAME.fullmatch(name):
            raise InputError(f"元数据名「{name}」不合法：只能用小写字母、数字和下划线，以字母开头", "metadata")
    return metadata


@dataclass(frozen=True)
class Lock:
    """Retention of one stored version: mode, until when, and legal hold (永久)."""

    mode: LockMode
    until: dt.datetime
    legal_hold: bool = False

    def active(self, now: dt.datetime) -> bool:
        return self.legal_hold or now < self.until


@dataclass(frozen=True)
class StoredVersion:
    """One version of one key, as the store reports it."""

    key: str
    version_id: str
    size: int
    metadata: dict[str, str] = field(default_factory=dict)
    lock: Lock | None = None
    is_delete_marker: bool = False


class ArchiveStore(Protocol):
    """A write-once, versioned, retention-locked store of archive files."""

    def put(self, key: str, data: bytes, *, metadata: dict[str, str], lock: Lock) -> StoredVersion:
        """Store a new version of ``key`` under ``lock``."""

    def get(self, key: str, version_id: str | None = None) -> bytes:
        """The bytes of a version (the latest when ``version_id`` is None)."""

    def stat(self, key: str, version_id: str | None = None) -> StoredVersion:
        """Metadata and lock state of a version, without its bytes."""

    def versions(self, prefix: str) -> list[StoredVersion]:
        """Every version and delete marker under ``prefix``, oldest first per key."""

    def delete(self, key: str, version_id: str) -> None:
        """Remove one version; ArchiveLocked while it is under retention or legal hold."""

    def link(self, key: str, version_id: str, expires: dt.timedelta) -> str:
        """A download link for auditors, valid for ``expires`` where the store can limit it."""
