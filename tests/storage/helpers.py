"""Test helpers for storage tests: load the directory, run a document to 已签发, rewrite the 审计日志."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import delete
from sqlmodel import select

from actions import deciding, drafting
from models.audit_chain import GENESIS, ChainEntry, entry_hash
from models.directory import Directory
from models.identity import Credentials
from models.spec import DocumentSpec
from models.tables import AuditEvent, Document
from storage import audit_log
from storage.database import Database
from storage.directory_store import save_directory

DRAFTER = "郭佳佳"
REVIEWER = "李红梅"
SIGNER = "陈立新"


def load(db: Database, directory: Directory) -> None:
    with db.transaction() as session:
        save_directory(session, directory=directory)


def signed_document(db: Database, spec: DocumentSpec, pins: dict[str, str]) -> Document:
    drafter = Credentials(DRAFTER, pins[DRAFTER])
    document = drafting.draft(db, spec=spec, by=drafter)
    drafting.submit(db, document_id=document.id, by=drafter)
    for name in (*document.review, *document.cosign, document.sign):
        deciding.decide(db, document_id=document.id, by=Credentials(name, pins[name]), approve=True)
    return document


def audit_actions(db: Database, document_id: int | None = None) -> list[str]:
    with db.transaction() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if document_id is not None:
            query = query.where(AuditEvent.document_id == document_id)
        return [event.action for event in session.exec(query)]


def rewrite_chain(db: Database, edit: Callable[[list[dict]], list[dict]]) -> None:
    """Rewrite the 审计日志 as whoever holds the database's password could: ``edit`` changes the
    entries (dicts of their columns, oldest first); then every entry is numbered and sealed anew and
    the head moved, so that the chain by itself verifies (only an anchor can tell)."""
    with db.transaction() as session:
        columns = AuditEvent.__table__.c
        rows = edit(
            [
                dict(row._mapping)
                for row in session.connection().execute(select(AuditEvent.__table__).order_by(columns.id))
            ]
        )
        session.connection().execute(delete(AuditEvent.__table__))
        last_hash = GENESIS
        for number, row in enumerate(rows, start=1):
            fields = (row["at"], row["actor"], row["action"], row["document_id"], row["detail"])
            entry = ChainEntry(number, *fields, prev_hash=last_hash)
            entry = dataclasses.replace(entry, hash=entry_hash(entry))
            session.connection().execute(audit_log.INSERT_EVENT, audit_log.parameters_of(entry))
            last_hash = entry.hash
        session.connection().execute(audit_log.ADVANCE_HEAD, {"event_id": len(rows), "event_hash": last_hash})
