"""下载 through the 门户 against a real ``gongwen server`` and its local archive: audit-retrieve's links lead
to the gateway (never ``file://``); a person within the document's 知悉范围 downloads the archived PDF and
the draft's PDF, anyone else is refused (403) and audited; an expired and an altered link are refused
and audited; an anonymous visitor is sent to sign in."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from uuid import UUID

import httpx
import pytest
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from flows.served_names import AUDIT_RETRIEVE
from models.download_links import ArchivedFile, DraftPdf
from storage import archiving, documents
from tests.prefect.documents import archive_records
from tests.prefect.served import Served
from tests.prefect.test_gateway_served import audited, sign_in
from tests.storage.archive.helpers import printed_document

AUDITOR, OUTSIDER, DRAFTER, COSIGNER = "孙敏", "张伟", "郭佳佳", "赵丽"


def _opened_by(served: Served, name: str, *urls: str) -> list[httpx.Response]:
    """What ``name``, signed in at the 门户, gets at each address."""
    client, _ = sign_in(served, name)
    try:
        return [client.get(url) for url in urls]
    finally:
        client.close()


def _run_links(served: Served, run_id: str) -> dict[str, str]:
    """The link artifacts of a flow run: link text → address."""
    of_run = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(run_id)]))
    found = served.desk()._call(lambda client: client.read_artifacts(artifact_filter=of_run))
    return {m[1]: m[2] for a in found if (m := re.fullmatch(r"\[(.+)\]\((.+)\)", str(a.data)))}


@pytest.fixture(scope="module")
def archived(served: Served, notice, pins) -> tuple[int, str, str]:
    """The seed notice signed, registered, printed and archived in the server's own store, then found by
    audit-retrieve: its id, the archived PDF's link in that run's artifacts, and a link to its draft's PDF."""
    db = served.app.db
    doc = printed_document(db, notice, pins)
    archiving.archive(db, served.app.archive_store, document_id=doc, store_name="local")
    with db.transaction() as session:
        document = documents.get(session, document_id=doc)
    desk = served.desk()
    run_id = desk.run_deployment(AUDIT_RETRIEVE, {"ref": document.ref})
    desk.finished(run_id)
    (record,) = archive_records(served, doc)
    links = _run_links(served, run_id)
    assert set(links) == {f"{record.archive_code}/{name}" for name in record.versions}
    makes = dataclasses.replace(served.app.download_links, base_url=served.gateway)  # the server's gateway port
    return doc, links[f"{record.archive_code}/document.pdf"], makes.url(DraftPdf(doc, document.version))


def test_the_runs_link_leads_to_the_gateway_not_to_a_file(served: Served, archived) -> None:
    _, archive_url, _ = archived
    assert archive_url.startswith(f"{served.gateway}/gateway/files/") and "file://" not in archive_url


def test_an_auditor_downloads_the_archived_pdf_audited(served: Served, archived) -> None:
    doc, archive_url, _ = archived
    (record,) = archive_records(served, doc)
    (answer,) = _opened_by(served, AUDITOR, archive_url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith('inline; filename="document.pdf"')
    assert answer.content.startswith(b"%PDF") and answer.content == served.app.archive_store.get(
        f"{record.prefix}/document.pdf", record.versions["document.pdf"]
    )
    expected = {"key": f"{record.prefix}/document.pdf", "version": record.versions["document.pdf"]}
    assert expected in audited(served, "archive_downloaded", AUDITOR)


def test_the_drafter_opens_the_drafts_pdf(served: Served, archived) -> None:
    doc, _, draft_url = archived
    (answer,) = _opened_by(served, DRAFTER, draft_url)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF")
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    assert any(entry.get("draft_version") for entry in audited(served, "draft_pdf_downloaded", DRAFTER))


def test_someone_outside_the_documents_readers_is_refused_and_audited(served: Served, archived) -> None:
    doc, archive_url, draft_url = archived
    for answer in _opened_by(served, OUTSIDER, archive_url, draft_url):
        assert answer.status_code == 403 and "不在本文的知悉范围内" in answer.text
        assert "%PDF" not in answer.text
    reasons = [entry["reason"] for entry in audited(served, "download_refused", OUTSIDER)]
    assert len([r for r in reasons if "知悉范围" in r]) >= 2


def test_an_expired_or_altered_link_is_refused_and_audited(served: Served, archived) -> None:
    doc, archive_url, _ = archived
    (record,) = archive_records(served, doc)
    links = served.app.download_links
    made = dt.datetime.now(dt.UTC) - links.lifetime - dt.timedelta(minutes=1)
    file = ArchivedFile(doc, f"{record.prefix}/document.pdf", record.versions["document.pdf"])
    expired = f"{served.gateway}/gateway/files/{links.token(file, made_at=made)}"
    token = archive_url.rsplit("/", 1)[1]
    altered = archive_url[: -len(token)] + token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    gone, bad, fine = _opened_by(served, COSIGNER, expired, altered, archive_url)
    assert gone.status_code == 410 and "下载链接已过期" in gone.text
    assert bad.status_code == 403 and "下载链接无效" in bad.text
    assert fine.status_code == 200  # 赵丽: of 开封市市场监督管理局, a 主送 agency
    reasons = [entry["reason"] for entry in audited(served, "download_refused", COSIGNER)]
    assert any("已过期" in r for r in reasons) and any("无效" in r for r in reasons)


def test_an_anonymous_visitor_is_sent_to_sign_in(served: Served, archived) -> None:
    _, archive_url, _ = archived
    answer = httpx.get(archive_url)
    path = archive_url.removeprefix(served.gateway)
    assert answer.status_code == 303 and answer.headers["location"] == f"/gateway/signin?next={path}"
