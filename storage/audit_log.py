"""The 审计日志: append-only, hash-chained (models.audit_chain).

``append`` locks the chain head (``SELECT … FOR UPDATE``; SQLite's writer lock)
so entries get consecutive ids and each seals the one before it, in the same
transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session, select

from models.audit_chain import ChainEntry, ChainReport, canonical_json, entry_hash, verify_chain
from models.tables import AuditEvent, AuditHead


def append(
    session: Session, *, actor: str, action: str, document_id: int | None = None, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Add one entry to the chain inside the caller's transaction."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    entry = ChainEntry(
        id=head.last_id + 1,
        at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        actor=actor,
        action=action,
        document_id=document_id,
        detail=canonical_json(detail or {}),
        prev_hash=head.last_hash,
    )
    row = AuditEvent(**entry.sealed(), hash=entry_hash(entry))
    head.last_id, head.last_hash = row.id, row.hash
    session.add(row)
    session.add(head)
    session.flush()
    return row


def _entries(session: Session, document_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if document_id is not None:
        query = query.where(AuditEvent.document_id == document_id)
    return list(session.exec(query))


def trail(session: Session, *, document_id: int) -> list[AuditEvent]:
    """Every entry about one document, oldest first."""
    return _entries(session, document_id)


def verify(session: Session) -> ChainReport:
    """Check the whole chain; the report names the first broken entry."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).one()
    entries = (
        ChainEntry(e.id, e.at, e.actor, e.action, e.document_id, e.detail, e.prev_hash, e.hash)
        for e in _entries(session)
    )
    return verify_chain(entries, head.last_hash)
