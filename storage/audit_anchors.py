"""审计链锚点: the 审计日志's head witnessed in the write-once archive, so a rewritten chain is caught.

The hash chain (storage.audit_log) shows an entry changed, removed or inserted — unless whoever
holds the database's password rewrites the chain from that entry on, computing every later hash and
the head again. Archive packages fix the entries of their own audit-trail.json, but what comes after
the last 归档 (核发, 签收, 催办) would have nothing outside the database to hold it.

An anchor is that: the chain head's id and hash at one moment, put into the archive store under a
legal hold (as 永久 files are), where no key gongwen holds can replace or delete it. ``anchor``
writes one (``gongwen audit anchor``; the anchor-audit-log deployment every day) after checking the
chain is whole, so a broken chain is never sealed; ``check_anchors`` (part of ``audit verify``) reads
every anchor and requires the chain to still hold each one's entry with that very hash.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, select

from models import archive_package as pkg
from models.audit_chain import canonical_json
from models.errors import VerificationFailed
from models.tables import AuditEvent, AuditHead, utcnow
from models.vocabulary import Retention
from storage import audit_log
from storage.archive.base import ArchiveStore, Lock, LockMode, StoredVersion
from storage.archive_checks import AUTHENTIC, Check, check_chain
from storage.archiving import SHA256_METADATA

PREFIX = "audit-anchors/"
#: Entries looked up per query when checking anchors.
_BATCH = 500


@dataclass(frozen=True)
class Anchor:
    """The chain head as it stood when anchored: its last entry's id and hash."""

    last_id: int
    last_hash: str
    anchored_at: str

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.last_id:012d}.json"

    def content(self) -> bytes:
        return canonical_json(
            {"last_id": self.last_id, "last_hash": self.last_hash, "anchored_at": self.anchored_at}
        ).encode()


def anchor(db, store: ArchiveStore, *, lock_mode: LockMode, now: dt.datetime | None = None) -> Anchor | None:
    """Put the chain head into the archive as an anchor; the anchor (None while the chain is empty).

    Idempotent: a head already anchored returns that anchor. VerificationFailed, and nothing put,
    when the chain is broken: an anchor seals only a whole chain."""
    with db.transaction() as session:
        report = audit_log.verify(session)
        if not report.ok:
            raise VerificationFailed(f"审计链不完整，未锚定：{report.reason}", "audit_log")
        head = session.get(AuditHead, 1)  # verify read it: it exists
        last_id, last_hash = head.last_id, head.last_hash
    if last_id == 0:
        return None
    at = now or utcnow()
    fresh = Anchor(last_id, last_hash, at.isoformat(timespec="seconds"))
    for version in store.versions(fresh.key):
        if version.key == fresh.key and not version.is_delete_marker:
            return _read(store, version)
    until, hold = pkg.lock_until(Retention.PERMANENT, at)
    data = fresh.content()
    store.put(
        fresh.key, data, metadata={SHA256_METADATA: pkg.digest(data)["sha256"]}, lock=Lock(lock_mode, until, hold)
    )
    return fresh


def _read(store: ArchiveStore, version: StoredVersion) -> Anchor:
    content = json.loads(store.get(version.key, version.version_id))
    anchored = Anchor(int(content["last_id"]), str(content["last_hash"]), str(content["anchored_at"]))
    if anchored.key != version.key:
        raise ValueError(f"{version.key} holds the anchor of entry #{anchored.last_id}")
    return anchored


def check_anchors(session: Session, store: ArchiveStore) -> Check:
    """真实性 · 审计链锚点: every anchor in the archive is one version under legal hold, readable, and
    names an entry the chain still holds with the anchored hash (a rewritten or truncated chain fails
    here)."""
    anchors, problems = [], []
    versions = store.versions(PREFIX)
    per_key = Counter(version.key for version in versions)
    for version in versions:
        if version.is_delete_marker:
            problems.append(f"锚点 {version.key} 有删除标记")
            continue
        if version.lock is None or not version.lock.legal_hold:
            problems.append(f"锚点 {version.key} 不在法律保留之下")
        try:
            anchors.append(_read(store, version))
        except (ValueError, KeyError, TypeError):
            problems.append(f"锚点 {version.key} 无法读取或内容不符")
    problems += [f"锚点 {key} 有 {count} 个版本" for key, count in sorted(per_key.items()) if count > 1]
    hashes = _hashes(session, sorted({a.last_id for a in anchors}))
    for found in sorted(anchors, key=lambda a: a.last_id):
        if found.last_id not in hashes:
            problems.append(f"{found.anchored_at} 锚定的审计记录 #{found.last_id} 已不在审计链中（链被截断）")
        elif hashes[found.last_id] != found.last_hash:
            problems.append(f"审计记录 #{found.last_id} 与 {found.anchored_at} 的锚点不符（审计链被改写）")
    if problems:
        return Check(AUTHENTIC, "审计链锚点", False, "；".join(problems))
    if not anchors:
        return Check(AUTHENTIC, "审计链锚点", True, "尚无锚点（gongwen audit anchor 写入）")
    latest = max(anchors, key=lambda a: a.last_id)
    detail = f"{len(anchors)} 个锚点均与审计链一致（最近：{latest.anchored_at}，审计记录 #{latest.last_id}）"
    return Check(AUTHENTIC, "审计链锚点", True, detail)


def _hashes(session: Session, ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        found.update(session.exec(select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(batch))).all())
    return found


def chain_checks(session: Session, store: ArchiveStore) -> list[Check]:
    """The checks of the 审计日志 as a whole that every 四性检测 includes: the chain, its anchors."""
    return [check_chain(session), check_anchors(session, store)]
