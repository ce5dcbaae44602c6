"""Finding archived documents for auditors: by 文号, 年度, 发文机关 or words of the 标题."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import String, cast, or_
from sqlmodel import Session, select

from models.lifecycle import State
from models.tables import ArchiveRecord, Document


@dataclass(frozen=True)
class Found:
    """One archived document: its record and the document row."""

    document: Document
    record: ArchiveRecord


#: Archived documents with their records (not a 已印制 document whose 归档 has reserved its 档号 and not
#: completed), built once: each find only adds its criteria.
_ARCHIVED = (
    select(Document, ArchiveRecord)
    .join(ArchiveRecord, ArchiveRecord.document_id == Document.id)
    .where(or_(ArchiveRecord.manifest_sha256 != "", Document.state != State.PRINTED.value))
)


def find(
    session: Session,
    *,
    ref: str | None = None,
    year: int | None = None,
    issuer: str | None = None,
    text: str | None = None,
    limit: int = 200,
) -> list[Found]:
    """Archived documents matching every given criterion, newest 档号 first. A 文号 names one document at
    most (``documents.ref`` is unique, and indexed): looked up by it, nothing is sorted."""
    query = _ARCHIVED
    if ref is not None:
        query = query.where(Document.ref == ref)
    if year is not None:
        query = query.where(ArchiveRecord.year == year)
    if issuer is not None:
        query = query.where(cast(Document.issuers, String).contains(issuer))
    if text is not None:
        query = query.where(Document.title.contains(text))
    if ref is None:
        query = query.order_by(ArchiveRecord.year.desc(), ArchiveRecord.item_no.desc()).limit(limit)
    return [Found(document, record) for document, record in session.exec(query)]


def record_for_ref(session: Session, *, ref: str) -> Found | None:
    found = find(session, ref=ref, limit=1)
    return found[0] if found else None
