"""下载 of an archived file (actions.downloads) from an S3 archive — moto and Ceph RGW — as from the local one:
the version's bytes for a person within the 知悉范围, audited; a refusal audited, nothing read; a link to a
key outside the document's archive refused."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from actions.downloads import open_download, open_link
from models.download_links import ArchivedFile, DownloadLinks
from models.errors import RefusedDecision
from models.tables import AuditEvent
from storage import archiving
from tests.storage.archive.helpers import printed_document
from tests.storage.archive.s3_servers import fresh_store
from tests.storage.helpers import load

LINKS = DownloadLinks(bytes(range(32)), "https://gongwen.example.org", dt.timedelta(minutes=10))


@pytest.fixture(params=["moto", "rgw"])
def archived_in_s3(request, db, kaifeng, notice, pins):
    """The seed notice archived in a fresh S3 bucket: the database, the store, the PDF as ArchivedFile."""
    store = fresh_store(request.getfixturevalue(f"{request.param}_server"))
    load(db, kaifeng)
    doc = printed_document(db, notice, pins)
    record = archiving.archive(db, store, document_id=doc, store_name="s3")
    return db, store, ArchivedFile(doc, f"{record.prefix}/document.pdf", record.versions["document.pdf"])


def _entries(db, action: str) -> list[tuple[str, dict]]:
    with db.transaction() as session:
        found = session.exec(select(AuditEvent).where(AuditEvent.action == action))
        return [(event.actor, json.loads(event.detail)) for event in found]


def test_an_auditor_downloads_from_s3_audited(archived_in_s3) -> None:
    db, store, pdf = archived_in_s3
    opened = open_link(db, store, LINKS, person="孙敏", token=LINKS.token(pdf))
    assert opened.filename == "document.pdf"
    assert opened.content == store.get(pdf.key, pdf.version_id) and opened.content.startswith(b"%PDF")
    assert _entries(db, "archive_downloaded") == [("孙敏", {"key": pdf.key, "version": pdf.version_id})]


def test_refusals_from_s3_are_audited(archived_in_s3) -> None:
    db, store, pdf = archived_in_s3
    with pytest.raises(RefusedDecision, match="知悉范围"):
        open_download(db, store, person="张伟", download=pdf)
    elsewhere = ArchivedFile(pdf.document_id, "another-record/document.pdf", pdf.version_id)
    with pytest.raises(RefusedDecision, match="不属于本文的归档"):
        open_download(db, store, person="孙敏", download=elsewhere)
    refused = _entries(db, "download_refused")
    assert [actor for actor, _ in refused] == ["张伟", "孙敏"]
    assert _entries(db, "archive_downloaded") == []
