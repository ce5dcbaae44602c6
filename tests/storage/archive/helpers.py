"""Helpers for archive tests: a document brought to 已核发, a flaky store twin, running 四性检测."""

from __future__ import annotations

import datetime as dt

from doc_templates import reading
from models.errors import ServiceUnavailable
from storage import archive_checks, archiving, registration
from storage.archive.local import LocalArchiveStore
from storage.printing import Printed, record_printed
from tests.storage.archive.files import docx_with, pdf_with
from tests.storage.helpers import signed_document


class FlakyStore:
    """A store twin that fails every put after the first ``ok_puts`` (an S3 outage)."""

    def __init__(self, inner: LocalArchiveStore, ok_puts: int) -> None:
        self.inner, self.ok_puts = inner, ok_puts

    def put(self, key, data, *, metadata, lock):
        if self.ok_puts <= 0:
            raise ServiceUnavailable("归档库无法连接")
        self.ok_puts -= 1
        return self.inner.put(key, data, metadata=metadata, lock=lock)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def printed_document(db, notice, pins) -> int:
    document = signed_document(db, notice, pins)
    number = registration.register(db, document_id=document.id)
    record_printed(
        db,
        document_id=document.id,
        files=[
            Printed("document.docx", docx_with(str(number), notice.title, notice.body)),
            Printed("document.pdf", pdf_with(f"Notice {number.serial}"), pages=1),
        ],
    )
    return document.id


def verify(db, store, document_id):
    now = dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        record = archiving.find_record(session, document_id=document_id)
        return [archive_checks.check_chain(session)] + archive_checks.check_package(
            session, store, record, reading, now
        )


def failed(checks):
    return [c.name for c in checks if not c.ok]
