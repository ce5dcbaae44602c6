"""Test helpers for storage tests: load the directory, run a document to 已签发."""

from __future__ import annotations

from sqlmodel import select

from models.directory import Directory
from models.spec import DocumentSpec
from models.tables import AuditEvent, Document
from storage import transitions
from storage.database import Database
from storage.directory_store import save_directory

DRAFTER = "郭佳佳"
REVIEWER = "李红梅"
SIGNER = "陈立新"


def load(db: Database, directory: Directory) -> None:
    with db.transaction() as session:
        save_directory(session, directory=directory)


def signed_document(db: Database, spec: DocumentSpec, pins: dict[str, str]) -> Document:
    document = transitions.draft(db, spec=spec, drafter=DRAFTER)
    transitions.submit(db, document_id=document.id)
    for name in (*document.review, *document.cosign, document.sign):
        transitions.decide(db, document_id=document.id, name=name, pin=pins[name], approve=True)
    return document


def audit_actions(db: Database, document_id: int | None = None) -> list[str]:
    with db.transaction() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if document_id is not None:
            query = query.where(AuditEvent.document_id == document_id)
        return [event.action for event in session.exec(query)]
