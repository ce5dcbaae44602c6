"""发文办理 after 签发: 登记 (number), 印制 (docx + PDF/A), 归档, 核发 — each step idempotent.

``issue`` registers the document (storage.registration.register: the number is
taken once), prints it (the signed version's spec laid out with its 发文字号
and 签发 date, rendered to .docx, converted to PDF/A-2b, the files kept with the
document by storage.printing), archives the package (storage.archiving) and
dispatches it to its 主送, 抄报 and 抄送 (actions.distribution). Running ``issue``
again after a failure — an archive store or mail server that was down, say —
continues where it stopped and never takes a second number, prints twice,
writes a second package or sends a recipient a second copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from actions.distribution import DispatchReport, MailOptions, dispatch
from delivery.base import Channel
from doc_templates import PdfConverter, print_document, scratch
from models.directory import Directory
from models.lifecycle import State
from models.refno import ReferenceNumber
from models.spec import DocumentSpec
from models.tables import ArchiveRecord, PrintedFile
from storage import archiving, documents, registration, signing, transitions
from storage.archive.base import ArchiveStore, LockMode
from storage.database import Database
from storage.directory_store import load_directory
from storage.printing import Printed, printed_files, record_printed, refusal_audited


@dataclass(frozen=True)
class Issued:
    """What issuing produced: the number, the printed files, the 档号 and the 核发."""

    ref: ReferenceNumber
    files: dict[str, bytes]
    pages: int | None
    archive_code: str
    dispatch: DispatchReport


@dataclass(frozen=True)
class _PrintJob:
    spec: DocumentSpec
    directory: Directory
    ref: ReferenceNumber
    signed_on: dt.date | None


def issue(
    db: Database,
    store: ArchiveStore,
    channel: Channel,
    *,
    document_id: int,
    store_name: str,
    mail: MailOptions,
    lock_mode: LockMode = "COMPLIANCE",
    converter: PdfConverter | None = None,
) -> Issued:
    """登记, 印制, 归档 and 核发 a 已签发 document; safe to run again."""
    ref = register(db, document_id=document_id)
    print_once(db, document_id=document_id, converter=converter)
    record = archive(db, store, document_id=document_id, store_name=store_name, lock_mode=lock_mode)
    report = dispatch(db, channel, document_id=document_id, options=mail, store=store)
    stored = printed(db, document_id=document_id)
    pdf = stored.get("document.pdf")
    return Issued(
        ref,
        {name: row.content for name, row in stored.items()},
        pdf.pages if pdf else None,
        record.archive_code,
        report,
    )


def register(db: Database, *, document_id: int) -> ReferenceNumber:
    """登记: the 发文字号, taken once, of a 已签发 document whose content is the one signed
    (storage.registration: a registered document gives its number again)."""
    return registration.register(db, document_id=document_id)


def archive(
    db: Database, store: ArchiveStore, *, document_id: int, store_name: str, lock_mode: LockMode = "COMPLIANCE"
) -> ArchiveRecord:
    """归档: the package written once into the archive store, locked (storage.archiving: a document
    archived already gives its record again)."""
    return archiving.archive(db, store, document_id=document_id, store_name=store_name, lock_mode=lock_mode)


def print_once(db: Database, *, document_id: int, converter: PdfConverter | None = None) -> None:
    """印制 a 已登记 document (its .docx and PDF/A kept with it); a document already printed is left as it is.

    Nothing is rendered from a content that is not the one signed (refused and audited, storage.printing)."""
    with refusal_audited(db, document_id=document_id), db.transaction() as session:
        document = documents.get(session, document_id=document_id)
        if document.state != State.REGISTERED.value:
            return
        signing.check_signed(session, document, step="印制")
        job = _PrintJob(
            documents.spec_of(document),
            load_directory(session),
            ReferenceNumber.parse(document.ref, "ref"),
            document.signed_on,
        )
    record_printed(db, document_id=document_id, files=_render(job, converter))


def printed(db: Database, *, document_id: int) -> dict[str, PrintedFile]:
    """The printed files of a document by name (empty before 印制)."""
    with db.transaction() as session:
        return printed_files(session, document_id=document_id)


def _render(job: _PrintJob, converter: PdfConverter | None) -> list[Printed]:
    with scratch.temporary_folder("print") as out:
        result = print_document(
            job.spec,
            job.directory,
            ref=job.ref,
            out_docx=out / "document.docx",
            out_pdf=out / "document.pdf",
            pdfa=True,
            signed_on=job.signed_on,
            issued_on=transitions.today(),
            converter=converter,
        )
        return [
            Printed("document.docx", result.docx.read_bytes()),
            Printed("document.pdf", result.pdf.read_bytes(), pages=result.pages),
        ]
