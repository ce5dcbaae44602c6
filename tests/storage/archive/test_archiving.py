"""归档 and 四性检测 on the local store: one package per document, tampering caught, outages survived."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from models.errors import ServiceUnavailable
from storage import archiving, documents
from storage.archive.local import LocalArchiveStore
from tests.storage.archive.files import pdf_with
from tests.storage.archive.helpers import FlakyStore, failed, printed_document, verify
from tests.storage.helpers import load


@pytest.fixture
def setup(db, kaifeng, notice, pins, tmp_path):
    load(db, kaifeng)
    store = LocalArchiveStore(tmp_path / "archive")
    return db, store, printed_document(db, notice, pins)


def test_archiving_makes_one_verified_package(setup):
    db, store, document_id = setup
    record = archiving.archive(db, store, document_id=document_id, store_name="local")
    assert record.archive_code == "J001-WS·2022-D30-0001"
    assert record.prefix == "J001/2022/D30/J001-WS·2022-D30-0001"
    assert sorted(record.versions) == [
        "audit-trail.json",
        "document.docx",
        "document.pdf",
        "manifest.json",
        "metadata.json",
    ]
    metadata = json.loads(store.get(f"{record.prefix}/metadata.json"))
    assert metadata["ref"] == "汴打假〔2022〕3号"
    assert metadata["stamp"] == {"fonds": "J001", "year": 2022, "retention": "30年", "item_no": 1, "pages": 1}
    trail = json.loads(store.get(f"{record.prefix}/audit-trail.json"))
    assert [e["action"] for e in trail] == ["draft", "submit", "approve", "approve", "register", "print"]
    with db.transaction() as session:
        assert documents.get(session, document_id=document_id).state == "archived"
    checks = verify(db, store, document_id)
    assert failed(checks) == []
    assert {c.property for c in checks} == {"真实性", "完整性", "可用性", "安全性"}


def test_archiving_twice_makes_no_second_package(setup):
    db, store, document_id = setup
    first = archiving.archive(db, store, document_id=document_id, store_name="local")
    second = archiving.archive(db, store, document_id=document_id, store_name="local")
    assert (first.id, first.versions) == (second.id, second.versions)
    assert len(store.versions(first.prefix + "/")) == 5


def test_an_outage_leaves_the_document_printed_and_a_retry_completes(setup):
    db, store, document_id = setup
    with pytest.raises(ServiceUnavailable):
        archiving.archive(db, FlakyStore(store, ok_puts=2), document_id=document_id, store_name="local")
    with db.transaction() as session:
        assert documents.get(session, document_id=document_id).state == "printed"
        assert archiving.find_record(session, document_id=document_id) is None
    record = archiving.archive(db, store, document_id=document_id, store_name="local")
    assert record.item_no == 1
    assert len(store.versions(record.prefix + "/")) == 5
    assert failed(verify(db, store, document_id)) == []


def test_a_document_archived_after_another_one_failed_mid_package_does_not_take_its_archive_code(
    db, kaifeng, notice, pins, tmp_path
):
    load(db, kaifeng)
    store = LocalArchiveStore(tmp_path / "archive")
    first, second = printed_document(db, notice, pins), printed_document(db, notice, pins)
    with pytest.raises(ServiceUnavailable):
        archiving.archive(db, FlakyStore(store, ok_puts=2), document_id=first, store_name="local")
    other = archiving.archive(db, store, document_id=second, store_name="local")
    record = archiving.archive(db, store, document_id=first, store_name="local")
    assert (record.item_no, other.item_no) == (1, 2)
    for document_id, archived in ((first, record), (second, other)):
        assert len(store.versions(archived.prefix + "/")) == 5
        assert failed(verify(db, store, document_id)) == []


def test_a_new_version_over_an_archived_key_is_caught(setup):
    db, store, document_id = setup
    record = archiving.archive(db, store, document_id=document_id, store_name="local")
    store.put(
        f"{record.prefix}/document.pdf",
        pdf_with("forged"),
        metadata={},
        lock=store.stat(f"{record.prefix}/document.pdf").lock,
    )
    assert failed(verify(db, store, document_id)) == ["无意外版本"]


def test_changed_bytes_in_the_store_are_caught(setup):
    db, store, document_id = setup
    record = archiving.archive(db, store, document_id=document_id, store_name="local")
    path = store.root / "objects" / record.prefix / "document.docx" / record.versions["document.docx"]
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "固定性（SHA-256/SM3）" in failed(verify(db, store, document_id))


def test_an_edited_database_record_is_caught(setup):
    db, store, document_id = setup
    archiving.archive(db, store, document_id=document_id, store_name="local")
    with db.transaction() as session:
        session.execute(text("UPDATE documents SET title = :t WHERE id = :id"), {"t": "另一个标题", "id": document_id})
    assert failed(verify(db, store, document_id)) == ["元数据与文件一致"]


def test_an_edited_manifest_hash_is_caught(setup):
    db, store, document_id = setup
    archiving.archive(db, store, document_id=document_id, store_name="local")
    with db.transaction() as session:
        session.execute(text("UPDATE archive_records SET manifest_sha256 = :h"), {"h": "0" * 64})
    assert failed(verify(db, store, document_id)) == ["固定性（SHA-256/SM3）", "归档记录"]


def test_an_edited_audit_row_is_caught(setup):
    db, store, document_id = setup
    archiving.archive(db, store, document_id=document_id, store_name="local")
    with db.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = '他人' WHERE action = 'approve'"))
    assert failed(verify(db, store, document_id)) == ["审计链"]


def test_item_numbers_are_consecutive_per_fonds_year_and_retention(db, kaifeng, notice, pins, tmp_path):
    load(db, kaifeng)
    store = LocalArchiveStore(tmp_path / "archive")
    ids = [printed_document(db, notice, pins) for _ in range(3)]
    codes = [archiving.archive(db, store, document_id=i, store_name="local").archive_code for i in ids]
    assert codes == [f"J001-WS·2022-D30-000{n}" for n in (1, 2, 3)]
