"""印制: keep the files printed for a registered document, and move it to 已印制.

The rendering itself (docxtpl, LibreOffice) happens outside the transaction;
``record_printed`` stores the result under the document's row lock with an
audit entry holding each file's SHA-256. Printing a document twice keeps the
first files (idempotent).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlmodel import Session, select

from models.lifecycle import Action, State, transition
from models.tables import PrintedFile
from storage import documents
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
    """Store the printed files and move the document from 已登记 to 已印制."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        existing = printed_files(session, document_id=document_id)
        if existing:
            return list(existing.values())
        transition(State(document.state), Action.PRINT)
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
        move(session, document, Action.PRINT, actor=actor, detail={"files": {r.name: r.sha256 for r in rows}})
        return rows
