"""The 审计日志: append-only, hash-chained (models.audit_chain).

``append`` locks the chain head (``SELECT … FOR UPDATE``; SQLite's writer lock)
so entries get consecutive ids and each seals the one before it, in the same
transaction as the change it records.

``next_entry`` is the one place that builds an entry from the chain head: the
next id, the time, the canonical detail, the previous hash and its own hash
(``sealed_text`` is the text that hash is taken of).
``append`` uses it, and so does 登记 (storage.registration.register), which locks
the head and writes the entry with the Core statements below (``HEAD_FOR_UPDATE``,
``INSERT_EVENT``, ``ADVANCE_HEAD``, parameters from ``parameters_of``) — on
PostgreSQL instead within one statement of its own that also seals the entry
(``sealed_text`` of an entry with stand-ins, completed by the database).
``append_all`` writes a run of entries with those statements: the head locked
once, the rows in one ``executemany``, the head advanced once (核发 records a
batch of sends so).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlmodel import Session, select

from models.audit_chain import ChainEntry, ChainReport, canonical_json, entry_hash, verify_chain
from models.errors import NotAllowed, WrongPin
from models.tables import AuditEvent, AuditHead
from storage import pin_lockout

if TYPE_CHECKING:
    from storage.database import Database


def next_entry(
    *,
    last_id: int,
    last_hash: str,
    actor: str,
    action: str,
    document_id: int | None = None,
    detail: dict[str, Any] | None = None,
    at: str | None = None,
) -> ChainEntry:
    """The entry that follows a chain head (its ``last_id``, ``last_hash``), sealed with its hash.

    Its time ``at`` is now unless given (登记 on PostgreSQL gives a stand-in, see ``sealed_text``).
    """
    entry = ChainEntry(
        id=last_id + 1,
        at=at or dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        actor=actor,
        action=action,
        document_id=document_id,
        detail=canonical_json(detail or {}),
        prev_hash=last_hash,
    )
    return dataclasses.replace(entry, hash=entry_hash(entry))


def sealed_text(entry: ChainEntry) -> str:
    """The text whose SHA-256 (of its UTF-8) is the entry's hash: what ``entry_hash`` hashes.

    登记 on PostgreSQL (storage.registration) has the database seal its entry: it writes this
    text for an entry built with stand-ins for what only the database knows (the time, the
    id, the previous hash, its 发文顺序号), and the database puts the values in their place.
    """
    return canonical_json(entry.sealed())


def append(
    session: Session, *, actor: str, action: str, document_id: int | None = None, detail: dict[str, Any] | None = None
) -> AuditEvent:
    """Add one entry to the chain inside the caller's transaction."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
    entry = next_entry(
        last_id=head.last_id,
        last_hash=head.last_hash,
        actor=actor,
        action=action,
        document_id=document_id,
        detail=detail,
    )
    row = AuditEvent(**row_of(entry))
    head.last_id, head.last_hash = entry.id, entry.hash
    session.add(row)
    session.add(head)
    session.flush()
    return row


def row_of(entry: ChainEntry) -> dict[str, Any]:
    """The ``audit_events`` row of a sealed entry."""
    return {**entry.sealed(), "hash": entry.hash}


def parameters_of(entry: ChainEntry) -> dict[str, Any]:
    """The parameters of ``INSERT_EVENT`` and ``ADVANCE_HEAD`` for a sealed entry."""
    return {f"event_{name}": value for name, value in row_of(entry).items()}


# Core statements for callers that write the chain without the ORM (the 登记 fast path).
_EVENTS, _HEAD = AuditEvent.__table__, AuditHead.__table__
#: Lock the chain head; yields (last_id, last_hash).
HEAD_FOR_UPDATE = select(_HEAD.c.last_id, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
# Parameters ``parameters_of(entry)``: the row's columns prefixed ``event_`` (SQLAlchemy reserves
# bind names equal to column names in INSERT and UPDATE).
#: Insert the entry's row.
INSERT_EVENT = insert(_EVENTS).values({column.name: bindparam(f"event_{column.name}") for column in _EVENTS.c})
#: Make the entry the chain head.
ADVANCE_HEAD = (
    update(_HEAD).where(_HEAD.c.id == 1).values(last_id=bindparam("event_id"), last_hash=bindparam("event_hash"))
)


@dataclasses.dataclass(frozen=True)
class Record:
    """What one audit entry says: who did what, about which document, with which detail."""

    actor: str
    action: str
    document_id: int | None
    detail: dict[str, Any]


def append_all(connection: Connection, records: list[Record]) -> None:
    """Add entries for ``records``, in order, inside the caller's transaction (Core statements)."""
    if not records:
        return
    last_id, last_hash = connection.execute(HEAD_FOR_UPDATE).one()
    rows = []
    for record in records:
        entry = next_entry(last_id=last_id, last_hash=last_hash, **dataclasses.asdict(record))
        rows.append(parameters_of(entry))
        last_id, last_hash = entry.id, entry.hash
    connection.execute(INSERT_EVENT, rows)
    connection.execute(ADVANCE_HEAD, rows[-1])


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


@contextlib.contextmanager
def refusals_audited(
    db: Database,
    *,
    actor: str,
    action: str,
    document_id: int | None = None,
    detail: dict[str, Any] | None = None,
    refusals: tuple[type[Exception], ...] = (NotAllowed,),
) -> Iterator[None]:
    """Every refusal of a person's action is audited: a refusal (``refusals``, NotAllowed by default)
    raised in the block goes on to the caller after it is recorded as ``action`` (``…_refused``) with its
    reason and field, in a transaction of its own (the block's own transaction has been rolled back).
    A wrong PIN (WrongPin, for the person ``actor``) is counted there too (storage.pin_lockout); the one
    that locks the person adds a ``pin_locked`` entry saying until when."""
    try:
        yield
    except refusals as refusal:
        with db.transaction() as session:
            why = {"reason": refusal.message, "field": refusal.field}
            append(session, actor=actor, action=action, document_id=document_id, detail={**(detail or {}), **why})
            if isinstance(refusal, WrongPin) and (until := pin_lockout.record_wrong_pin(session, name=actor)):
                locked = {"until": until.isoformat(), "wrong_pins": pin_lockout.MAX_WRONG_PINS}
                append(session, actor=actor, action="pin_locked", document_id=document_id, detail=locked)
        raise
