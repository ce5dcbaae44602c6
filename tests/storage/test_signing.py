"""签发 binds the content: 签发 records its digest; 登记, 印制 and 归档 refuse a content or a printed file that
is not the one signed and printed, audited, and take nothing (no number, no file, no 件号); the manifest and
the 归档 entry carry the digests. On SQLite and PostgreSQL (登记's single-statement pipeline included)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import select

from actions import issuing
from models import archive_package as pkg
from models.errors import VerificationFailed
from models.signed_content import LEGACY, content_digest, content_of_row
from models.tables import ArchiveRecord, AuditEvent, Decision, ItemCounter, PrintedFile, ReferenceCounter
from storage import archiving, documents, registration
from storage.archive.local import LocalArchiveStore
from storage.printing import Printed, record_printed
from tests.storage.archive.files import docx_with, pdf_with
from tests.storage.archive.helpers import printed_document
from tests.storage.helpers import load, signed_document

REF = "汴打假〔2022〕3号"


@pytest.fixture
def loaded(db, kaifeng):
    load(db, kaifeng)
    return db


def sql(db, statement: str, **params) -> None:
    with db.transaction() as session:
        session.execute(text(statement), params)


def entries(db, document_id: int, action: str) -> list[dict]:
    with db.transaction() as session:
        query = select(AuditEvent.detail).where(AuditEvent.document_id == document_id, AuditEvent.action == action)
        return [json.loads(detail) for detail in session.exec(query.order_by(AuditEvent.id))]


def counters(db) -> list[tuple[str, int, int]]:
    with db.transaction() as session:
        return [(c.code, c.year, c.last_serial) for c in session.exec(select(ReferenceCounter))]


def current_digest(db, document_id: int):
    with db.transaction() as session:
        return content_digest(content_of_row(documents.get(session, document_id=document_id)))


def test_signing_records_the_digest_of_the_content_signed_in_the_decision_and_its_entry(loaded, notice, pins):
    document = signed_document(loaded, notice, pins)
    signed = current_digest(loaded, document.id)
    with loaded.transaction() as session:
        rows = list(session.exec(select(Decision).where(Decision.document_id == document.id).order_by(Decision.id)))
    assert [(row.step, row.content_sha256, row.content_sm3) for row in rows] == [
        *((row.step, None, None) for row in rows[:-1]),
        ("签发", signed.sha256, signed.sm3),
    ]
    approvals = entries(loaded, document.id, "approve")
    assert approvals[-1]["step"] == "签发" and approvals[-1]["content_sha256"] == signed.sha256
    assert approvals[-1]["content_sm3"] == signed.sm3
    assert all("content_sha256" not in entry for entry in approvals[:-1])


def test_registering_the_signed_content_records_its_digest(loaded, notice, pins):
    document = signed_document(loaded, notice, pins)
    assert str(registration.register(loaded, document_id=document.id)) == REF
    [registered] = entries(loaded, document.id, "register")
    assert registered == {
        "from": "signed",
        "to": "registered",
        "ref": REF,
        **current_digest(loaded, document.id).as_detail(),
    }


EDITS = {
    "正文": "UPDATE documents SET body = body || '（签发后补充）' WHERE id = :doc",
    "标题": "UPDATE documents SET title = '关于另一件事的通知' WHERE id = :doc",
    "印发件": "UPDATE documents SET enclosure = NULL WHERE id = :doc",
    "签发人": "UPDATE documents SET sign = '李红梅' WHERE id = :doc",
    "主送": "UPDATE documents SET cc = '[]' WHERE id = :doc",
}


@pytest.mark.parametrize("edit", EDITS.values(), ids=EDITS)
def test_registration_refuses_a_content_edited_after_signing_and_takes_no_number(loaded, notice, pins, edit):
    document = signed_document(loaded, notice, pins)
    before = counters(loaded)
    sql(loaded, edit, doc=document.id)
    with pytest.raises(VerificationFailed) as refused:
        registration.register(loaded, document_id=document.id)
    assert refused.value.exit_code == 1 and refused.value.field == "content"
    assert f"公文 {document.id}的内容" in refused.value.message and "拒绝登记" in refused.value.message
    with loaded.transaction() as session:
        stored = documents.get(session, document_id=document.id)
        assert (stored.state, stored.ref) == ("signed", None)
    assert counters(loaded) == before  # the seed's 汴打假〔2022〕 counter, untouched
    [audited] = entries(loaded, document.id, "register_refused")
    assert audited["reason"] == refused.value.message
    assert entries(loaded, document.id, "register") == []


def test_a_document_signed_before_digests_were_recorded_registers_as_legacy(loaded, notice, pins):
    """早期签发: the 签发 decision has no digest (migration 0006 left it NULL); 登记 cannot check and says so."""
    document = signed_document(loaded, notice, pins)
    sql(
        loaded,
        "UPDATE decisions SET content_sha256 = NULL, content_sm3 = NULL WHERE document_id = :doc",
        doc=document.id,
    )
    sql(loaded, "UPDATE documents SET body = body || '（改）' WHERE id = :doc", doc=document.id)
    registration.register(loaded, document_id=document.id)
    [registered] = entries(loaded, document.id, "register")
    assert registered["signed_content"] == LEGACY
    assert registered["content_sha256"] == current_digest(loaded, document.id).sha256


def registered(db, notice, pins) -> int:
    document = signed_document(db, notice, pins)
    registration.register(db, document_id=document.id)
    return document.id


def files_for(document_id: int) -> list[Printed]:
    return [
        Printed("document.docx", docx_with(REF, "标题", "正文")),
        Printed("document.pdf", pdf_with("Notice"), pages=1),
    ]


def test_printing_refuses_a_content_edited_after_registration_and_keeps_no_file(loaded, notice, pins):
    document_id = registered(loaded, notice, pins)
    sql(
        loaded,
        "UPDATE documents SET attachments = :a WHERE id = :doc",
        a='[{"title": "附件", "body": "加的"}]',
        doc=document_id,
    )
    with pytest.raises(VerificationFailed) as refused:
        record_printed(loaded, document_id=document_id, files=files_for(document_id))
    assert f"公文 {document_id}（{REF}）" in refused.value.message and "拒绝印制" in refused.value.message
    with pytest.raises(VerificationFailed):  # and nothing is rendered: refused before LibreOffice is asked
        issuing.print_once(loaded, document_id=document_id, converter=None)
    with loaded.transaction() as session:
        assert session.exec(select(PrintedFile)).all() == []
        assert documents.get(session, document_id=document_id).state == "registered"
    assert [e["reason"] for e in entries(loaded, document_id, "print_refused")] == [refused.value.message] * 2


def test_printing_the_signed_content_records_its_digest(loaded, notice, pins):
    document_id = registered(loaded, notice, pins)
    record_printed(loaded, document_id=document_id, files=files_for(document_id))
    [printed] = entries(loaded, document_id, "print")
    assert printed["content_sha256"] == current_digest(loaded, document_id).sha256
    assert set(printed["files"]) == {"document.docx", "document.pdf"}


@pytest.fixture
def printed(loaded, notice, pins, tmp_path):
    return loaded, LocalArchiveStore(tmp_path / "archive"), printed_document(loaded, notice, pins)


def test_the_manifest_and_the_archive_entry_carry_the_signed_and_printed_digests(printed):
    db, store, document_id = printed
    record = archiving.archive(db, store, document_id=document_id, store_name="local")
    manifest = json.loads(store.get(f"{record.prefix}/{pkg.MANIFEST}"))
    signed = current_digest(db, document_id)
    assert manifest["signed_content"] == {"sha256": signed.sha256, "sm3": signed.sm3}
    listed = {entry["name"]: entry["sha256"] for entry in manifest["files"]}
    [print_entry] = entries(db, document_id, "print")
    assert (
        manifest["printed_files"] == print_entry["files"] == {n: listed[n] for n in ("document.docx", "document.pdf")}
    )
    [archived] = entries(db, document_id, "archive")
    assert (archived["content_sha256"], archived["files"]) == (signed.sha256, print_entry["files"])


PRINTED_FILE_SWAPS = {
    "bytes only": "UPDATE printed_files SET content = :forged WHERE document_id = :doc AND name = 'document.pdf'",
    "bytes and their SHA-256": (
        "UPDATE printed_files SET content = :forged, sha256 = :forged_sha256"
        " WHERE document_id = :doc AND name = 'document.pdf'"
    ),
}


@pytest.mark.parametrize("swap", PRINTED_FILE_SWAPS.values(), ids=PRINTED_FILE_SWAPS)
def test_archiving_refuses_a_printed_file_replaced_after_printing_and_takes_no_item_number(printed, swap):
    db, store, document_id = printed
    forged = pdf_with("Forged")
    sql(db, swap, forged=forged, forged_sha256=pkg.digest(forged)["sha256"], doc=document_id)
    with pytest.raises(VerificationFailed) as refused:
        archiving.archive(db, store, document_id=document_id, store_name="local")
    assert f"（{REF}）的印制文件 document.pdf" in refused.value.message
    with db.transaction() as session:
        assert session.exec(select(ArchiveRecord)).all() == [] and session.exec(select(ItemCounter)).all() == []
        assert documents.get(session, document_id=document_id).state == "printed"
    assert store.versions("") == []
    assert [e["reason"] for e in entries(db, document_id, "archive_refused")] == [refused.value.message]


def test_archiving_refuses_a_content_edited_after_printing(printed):
    db, store, document_id = printed
    sql(db, "UPDATE documents SET review = '[]' WHERE id = :doc", doc=document_id)
    with pytest.raises(VerificationFailed, match="拒绝归档"):
        archiving.archive(db, store, document_id=document_id, store_name="local")
    assert store.versions("") == []
    assert len(entries(db, document_id, "archive_refused")) == 1
