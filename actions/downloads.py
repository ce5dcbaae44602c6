"""下载 through the 门户: the bytes a download link names, for a person within the document's 知悉范围.

``open_link`` reads the link's token (models.download_links: an altered or expired one is refused), then
``open_download`` checks the person against the document (models.document_readers), then gives

- an archived file (归档文件): its version's bytes from the archive store, local or S3 alike — only a key
  under the document's own archive record; audited as ``archive_downloaded`` (who, document, key, version);
- a draft's PDF (草稿 PDF): the document's current version laid out without a 发文字号 and converted to PDF
  on demand (印制 through the PDF service when one is given); a link to a version since revised is gone
  (LinkExpired). Audited as ``draft_pdf_downloaded``.

Every refusal (an altered or expired link, not in the 知悉范围, not this document's file, a revised version) is audited as
``download_refused`` with the reason, and raised.
"""

from __future__ import annotations

from dataclasses import dataclass

from doc_templates import PdfConverter, print_document, scratch
from models.directory import Directory
from models.document_readers import check_reader
from models.download_links import ArchivedFile, Download, DownloadLinks, DraftPdf, LinkExpired, filename
from models.errors import RefusedDecision
from models.tables import ArchiveRecord, Document
from storage import archiving, audit_log, documents
from storage.archive.base import ArchiveStore
from storage.database import Database
from storage.directory_store import find_person, load_directory


@dataclass(frozen=True)
class Opened:
    """What a download gives: the bytes and the file's name."""

    filename: str
    content: bytes


def open_link(
    db: Database,
    store: ArchiveStore,
    links: DownloadLinks,
    *,
    person: str,
    token: str,
    converter: PdfConverter | None = None,
) -> Opened:
    """The file the link's ``token`` names, if it is gongwen's, still fresh, and ``person`` may read it."""
    with audit_log.refusals_audited(db, actor=person, action="download_refused"):
        download = links.read(token)
    return open_download(db, store, person=person, download=download, converter=converter)


def open_download(
    db: Database, store: ArchiveStore, *, person: str, download: Download, converter: PdfConverter | None = None
) -> Opened:
    """The file ``download`` names, if ``person`` may read it (see the module docstring)."""
    detail = _detail(download)
    with audit_log.refusals_audited(
        db, actor=person, action="download_refused", document_id=download.document_id, detail=detail
    ):
        with db.transaction() as session:
            document = documents.get(session, document_id=download.document_id)
            directory = load_directory(session)
            reader = find_person(session, name=person)
            if reader is None:
                raise RefusedDecision(f"目录中已没有人员「{person}」", "token")
            check_reader(directory, reader, document, document.drafter)
            if isinstance(download, ArchivedFile):
                _check_archived(archiving.find_record(session, document_id=document.id), download)
            else:
                _check_current(document, download)
    if isinstance(download, ArchivedFile):
        content = store.get(download.key, download.version_id)
        action = "archive_downloaded"
    else:
        content = _draft_pdf(document, directory, converter)
        action = "draft_pdf_downloaded"
    with db.transaction() as session:
        audit_log.append(session, actor=person, action=action, document_id=download.document_id, detail=detail)
    return Opened(filename(download), content)


def _detail(download: Download) -> dict[str, object]:
    if isinstance(download, ArchivedFile):
        return {"key": download.key, "version": download.version_id}
    return {"draft_version": download.version}


def _check_archived(record: ArchiveRecord | None, download: ArchivedFile) -> None:
    if record is None or not download.key.startswith(f"{record.prefix}/"):
        raise RefusedDecision("链接所指的文件不属于本文的归档", "token")


def _check_current(document: Document, download: DraftPdf) -> None:
    if document.version != download.version:
        raise LinkExpired(
            f"第 {download.version} 稿已修订为第 {document.version} 稿，请打开流程运行中最新的公文要素预览", "token"
        )


def _draft_pdf(document: Document, directory: Directory, converter: PdfConverter | None) -> bytes:
    """The draft laid out as printed, without a 发文字号 (given at 登记)."""
    with scratch.temporary_folder("print") as out:
        printed = print_document(
            documents.spec_of(document),
            directory,
            ref=None,
            out_docx=out / "draft.docx",
            out_pdf=out / "draft.pdf",
            signed_on=document.signed_on,
            converter=converter,
        )
        return printed.pdf.read_bytes()
