"""印制: keep the files printed for a registered document, and move it to 已印制.

The rendering itself (docxtpl, LibreOffice) happens outside the transaction;
``record_printed`` stores the result under the document's row lock with an
audit entry holding each file's SHA-256 and the digests of the content printed.
Printing a document twice keeps the first files (idempotent).

- A document whose content is not the one its 签发人 signed is not printed
  (storage.signing.check_signed): VerificationFailed naming the 公文编号 and 发文字号,
  audited as ``print_refused``.
- ``check_printed``: 归档 takes a printed file only with the bytes 印制 recorded
  (the SHA-256 in the 印制 entry and in its row).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlmodel import Session, select

from models.errors import VerificationFailed
from models.lifecycle import Action, State, transition
from models.tables import AuditEvent, Document, PrintedFile
from storage import audit_log, documents, signing
from storage.database import Database
from storage.transitions import SYSTEM, move


def printed_files(session: Session, *, document_id: int) -> dict[str, PrintedFile]:
    """The files printed for a document, by name."""
    rows = session.exec(select(PrintedFile).where(PrintedFile.document_id == document_id))
    return {row.name: row for row in rows}


def pdf_pages(session: Session, *, document_id: int) -> int | None:
    """The printed PDF's page count, without reading the files (None before 印制)."""
    query = select(PrintedFile.pages).where(PrintedFile.document_id == document_id, PrintedFile.name == "document.pdf")
    return session.exec(query).first()


@dataclass(frozen=True)
class Printed:
    """One printed file: its name in the package, bytes and page count (PDF)."""

    name: str
    content: bytes
    pages: int | None = None


def record_printed(db: Database, *, document_id: int, files: list[Printed], actor: str = SYSTEM) -> list[PrintedFile]:
    """Store the printed files and move the document from 已登记 to 已印制, if its content is the one signed."""
    with refusal_audited(db, document_id=document_id, actor=actor), db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        existing = printed_files(session, document_id=document_id)
        if existing:
            return list(existing.values())
        transition(State(document.state), Action.PRINT)
        content = signing.check_signed(session, document, step="印制")
        rows = [
            PrintedFile(
                document_id=document_id,
                name=f.name,
                content=f.content,
                sha256=hashlib.sha256(f.content).hexdigest(),
                pages=f.pages,
            )
            for f in files
        ]
        session.add_all(rows)
        session.flush()
        move(
            session, document, Action.PRINT, actor=actor, detail={"files": {r.name: r.sha256 for r in rows}, **content}
        )
        return rows


def refusal_audited(db: Database, *, document_id: int, actor: str = SYSTEM):
    """印制 refused because the content is not the one signed: audited as ``print_refused``, then raised."""
    refused = {"actor": actor, "action": "print_refused", "document_id": document_id}
    return audit_log.refusals_audited(db, **refused, refusals=(VerificationFailed,))


def check_printed(session: Session, document: Document, files: dict[str, PrintedFile]) -> dict[str, str]:
    """归档: each printed file is what 印制 recorded — its bytes' SHA-256 is the one in the 印制 entry (the
    audit chain) and in its row; the files' SHA-256 by name. VerificationFailed naming the 发文字号 otherwise."""
    query = select(AuditEvent.detail).where(AuditEvent.document_id == document.id, AuditEvent.action == "print")
    entry = session.exec(query.order_by(AuditEvent.id.desc())).first()
    recorded = json.loads(entry).get("files", {}) if entry is not None else {}
    named = f"公文 {document.id}（{document.ref}）"
    if not recorded or set(recorded) != set(files):
        raise VerificationFailed(
            f"{named}的印制文件与印制记录不符（印制时为 {sorted(recorded)}，现为 {sorted(files)}）", "printed_files"
        )
    actual = {name: hashlib.sha256(row.content).hexdigest() for name, row in files.items()}
    for name, digest in sorted(actual.items()):
        if digest != recorded[name] or files[name].sha256 != recorded[name]:
            raise VerificationFailed(
                f"{named}的印制文件 {name} 与印制时记录的 SHA-256 不符（印制时 {recorded[name]}，现为 {digest}）",
                "printed_files",
            )
    return actual
