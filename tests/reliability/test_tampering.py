"""Tampering: every way an archived document or its records can be changed after the fact is caught.

Each case builds the office of access_tamper_helpers (two archived documents, 汴打假〔2022〕3号
已核发 and signed for), checks that ``gongwen audit verify --all`` passes, changes one
thing the way someone with access to the files, the bucket or the database could, and
expects ``audit verify --all`` to exit 1 naming the check that caught it and the 发文字号 of
the document concerned, in its text and in its ``--json``.

What was signed is what is issued: a content, 附件 or 审批路径 edited between 签发 and 登记 or
between 登记 and 印制 is refused by the step (exit 1, audited) and, forced past it, named by
``audit verify`` (签发内容); a printed PDF replaced before 归档 is refused by 归档 (印制文件);
replaced after 归档, it reaches no recipient — 核发 sends the archived bytes — and is named
(印制文件); an archived file changed before 核发 stops it with nothing sent; a delivery's recorded
digest altered is named (分发文件).

Setups: the local archive folder with SQLite (every case), a bucket on Ceph RGW (a real S3
server with object lock; the store cases), and RGW with PostgreSQL (a few database cases). On RGW the bytes of a stored version cannot be
changed (a put makes a new version): its cases are new versions, delete markers and
metadata replaced by a copy.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from minio.commonconfig import REPLACE, CopySource
from sqlalchemy import text
from sqlmodel import select

from models.tables import ArchiveRecord, AuditEvent, Document, PrintedFile
from models.vocabulary import Retention
from storage import archiving, audit_anchors, audit_log, registration
from storage.printing import Printed, record_printed
from tests.reliability.access_tamper_helpers import (
    ACKNOWLEDGED,
    ARCHIVED_REF,
    DISPATCHED_REF,
    Office,
    copied,
    gongwen,
    gongwen_json,
    office,
    s3_environment,
)
from tests.storage.archive.conftest import rgw_server  # noqa: F401 - Ceph RGW, started once
from tests.storage.archive.files import docx_with, pdf_with
from tests.storage.helpers import rewrite_chain, signed_document

# ---------------------------------------------------------------- ways to tamper


def sql(statement: str, **params) -> Callable[[Office], None]:
    """Run one SQL statement against the office's database (:doc is the 已核发 document's id)."""

    def tamper(office: Office) -> None:
        with office.db.transaction() as session:
            session.execute(text(statement), {"doc": office.dispatched, **params})

    return tamper


def record(office: Office, document_id: int | None = None) -> ArchiveRecord:
    with office.db.transaction() as session:
        return archiving.find_record(session, document_id=document_id or office.dispatched)


def stored_file(office: Office, name: str) -> Path:
    """The local store's version of ``name`` in the 已核发 document's package (one file, made writable)."""
    found = record(office)
    path = office.store.root / "objects" / found.prefix / name / found.versions[name]
    path.chmod(0o644)
    return path


def changed_bytes(name: str) -> Callable[[Office], None]:
    def tamper(office: Office) -> None:
        path = stored_file(office, name)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))

    return tamper


def new_version(name: str) -> Callable[[Office], None]:
    """A new version over an archived key, locked like the original (through the store's own put)."""

    def tamper(office: Office) -> None:
        key = f"{record(office).prefix}/{name}"
        original = office.store.stat(key, record(office).versions[name])
        office.store.put(key, office.store.get(key, original.version_id) + b" ", metadata={}, lock=original.lock)

    return tamper


def stored_metadata(change: Callable[[dict], None]) -> Callable[[Office], None]:
    """Edit the metadata and lock the local store keeps with the 已核发 document's PDF (its user.gongwen attribute)."""

    def tamper(office: Office) -> None:
        path = stored_file(office, "document.pdf")
        meta = json.loads(os.getxattr(path, "user.gongwen"))
        change(meta)
        os.setxattr(path, "user.gongwen", json.dumps(meta, ensure_ascii=False).encode())

    return tamper


def version_removed(office: Office) -> None:
    stored_file(office, "document.docx").unlink()


def record_versions_swapped(office: Office) -> None:
    with office.db.transaction() as session:
        row = session.exec(select(ArchiveRecord).where(ArchiveRecord.document_id == office.dispatched)).one()
        versions = dict(row.versions)
        versions["document.pdf"], versions["document.docx"] = versions["document.docx"], versions["document.pdf"]
        row.versions = versions
        session.add(row)


def audit_row_inserted(office: Office) -> None:
    """A row slipped into the middle of the chain (the ids after it shifted up)."""
    with office.db.transaction() as session:
        middle = session.exec(select(AuditEvent).where(AuditEvent.action == "approve")).first()
        session.execute(text("UPDATE audit_events SET id = -id WHERE id > :id"), {"id": middle.id})
        session.execute(text("UPDATE audit_events SET id = 1 - id WHERE id < 0"))
        session.execute(
            text(
                "INSERT INTO audit_events (id, at, actor, action, document_id, detail, prev_hash, hash) "
                "VALUES (:id, :at, '陈立新', 'approve', :doc, '{}', :prev, :prev)"
            ),
            {"id": middle.id + 1, "at": middle.at, "doc": office.dispatched, "prev": middle.hash},
        )


def forged_entry_appended(office: Office) -> None:
    """An 签收 entry appended with a valid hash and the head advanced: the chain itself is whole."""
    with office.db.transaction() as session:
        audit_log.append(
            session,
            actor="兰考县打击侵权假冒工作领导小组",
            action="ack",
            document_id=office.dispatched,
            detail={"recipient": "兰考县打击侵权假冒工作领导小组", "address": "x@example.cn", "by": "name"},
        )


def chain_truncated(move_head: bool) -> Callable[[Office], None]:
    """The last four entries (the 草稿's 拟稿, 签收, 核发, one send) deleted; with ``move_head`` the head follows."""

    def tamper(office: Office) -> None:
        with office.db.transaction() as session:
            rows = list(session.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(5)))
            for row in rows[:4]:
                session.delete(row)
            if move_head:
                session.execute(
                    text("UPDATE audit_head SET last_id = :id, last_hash = :hash"),
                    {"id": rows[4].id, "hash": rows[4].hash},
                )

    return tamper


def receipt_erased(office: Office) -> None:
    """签收 undone by one who can rewrite the database: the ack entry removed, the chain renumbered and
    sealed anew (it verifies by itself), the delivery put back to 已发送: records and chain agree."""
    rewrite_chain(office.db, lambda rows: [row for row in rows if row["action"] != "ack"])
    sql("UPDATE deliveries SET status = 'sent', acked_at = NULL, acked_by = NULL WHERE acked_by IS NOT NULL")(office)


def receipt_backdated(office: Office) -> None:
    """签收 moved to an earlier day in its entry, the chain sealed anew after it, the delivery to match."""

    def backdate(rows: list[dict]) -> list[dict]:
        for row in rows:
            if row["action"] == "ack":
                row["at"] = "2022-05-01T08:00:00.000000+00:00"
        return rows

    rewrite_chain(office.db, backdate)
    sql("UPDATE deliveries SET acked_at = '2022-05-01 08:00:00' WHERE acked_by IS NOT NULL")(office)


def anchor_versioned(office: Office) -> None:
    """A second version put over the anchor's key, claiming another head."""
    [anchor] = office.store.versions(audit_anchors.PREFIX)
    forged = json.loads(office.store.get(anchor.key)) | {"last_hash": "0" * 64}
    office.store.put(anchor.key, json.dumps(forged).encode(), metadata={}, lock=anchor.lock)


@dataclass(frozen=True)
class Case:
    """One way to tamper and the checks that must name it (for the document ``ref``; None: the archive)."""

    tamper: Callable[[Office], None]
    caught_by: tuple[str, ...]
    ref: str | None = DISPATCHED_REF
    permanent: bool = False  # the documents kept 永久 (legal hold on top of retention)


FILES = ("document.docx", "document.pdf", "metadata.json", "manifest.json", "audit-trail.json")
#: An 附件 added to a document's content, as its JSON column holds it.
ATTACHMENT = json.dumps([{"title": "补充说明", "body": "签发后加上的附件", "table": None}], ensure_ascii=False)
#: What a delivery's row would say it attached if someone rewrote it.
FORGED_ATTACHED = json.dumps({"document.pdf": "0" * 64})

STORE_CASES_LOCAL = {
    **{f"bytes of {name}": Case(changed_bytes(name), ("固定性（SHA-256/SM3）",)) for name in FILES},
    **{f"new version of {name}": Case(new_version(name), ("无意外版本",)) for name in FILES},
    "a stored version removed": Case(version_removed, ("文件齐全",)),
    "object metadata edited": Case(
        stored_metadata(lambda meta: meta["metadata"].update(sha256="0" * 64)), ("对象元数据",)
    ),
    "retention shortened": Case(
        stored_metadata(lambda meta: meta["lock"].update(until="2023-01-01T00:00:00+00:00")), ("保留与法律保留",)
    ),
    "a second version of the audit anchor": Case(anchor_versioned, ("审计链锚点",), None),
    "legal hold or mode changed": Case(
        stored_metadata(lambda meta: meta["lock"].update(mode="GOVERNANCE", until="2000-01-01T00:00:00+00:00")),
        ("保留与法律保留",),
    ),
}

DATABASE_CASES = {
    "documents.ref": Case(
        sql("UPDATE documents SET ref = '汴打假〔2022〕9号' WHERE id = :doc"),
        ("办理状态与审计日志一致", "元数据与文件一致"),
        "汴打假〔2022〕9号",
    ),
    "documents.title": Case(
        sql("UPDATE documents SET title = '另一个标题' WHERE id = :doc"), ("元数据与文件一致", "公文记录与归档时一致")
    ),
    "documents.state": Case(
        sql("UPDATE documents SET state = 'archived' WHERE id = :doc"), ("办理状态与审计日志一致",)
    ),
    "documents.date": Case(sql("UPDATE documents SET date = '2022-01-01' WHERE id = :doc"), ("公文记录与归档时一致",)),
    "documents.signed_on": Case(
        sql("UPDATE documents SET signed_on = '2021-12-31' WHERE id = :doc"), ("公文记录与归档时一致",)
    ),
    "documents.registered_at": Case(
        sql("UPDATE documents SET registered_at = '2021-12-31 08:00:00' WHERE id = :doc"), ("公文记录与归档时一致",)
    ),
    "documents.body": Case(
        sql("UPDATE documents SET body = body || '（补充一句）' WHERE id = :doc"), ("签发内容", "公文记录与归档时一致")
    ),
    "documents.attachments (附件 added)": Case(
        sql(f"UPDATE documents SET attachments = '{ATTACHMENT}' WHERE id = :doc"), ("签发内容", "公文记录与归档时一致")
    ),
    "documents.enclosure (印发件 body)": Case(
        sql("UPDATE documents SET enclosure = replace(enclosure, '总体要求', '总体安排') WHERE id = :doc"),
        ("签发内容",),
    ),
    "documents.review (审批路径)": Case(sql("UPDATE documents SET review = '[]' WHERE id = :doc"), ("签发内容",)),
    "the 签发 decision's content digest": Case(
        sql(f"UPDATE decisions SET content_sha256 = '{'0' * 64}' WHERE document_id = :doc AND step = '签发'"),
        ("审批记录与审计日志一致",),
    ),
    "printed_files: the PDF's bytes replaced after 核发": Case(
        sql(
            "UPDATE printed_files SET content = :forged WHERE document_id = :doc AND name = 'document.pdf'",
            forged=pdf_with("Forged"),
        ),
        ("印制文件",),
    ),
    "a delivery's recorded attachment digest": Case(
        sql(
            f"UPDATE deliveries SET attached_sha256 = '{FORGED_ATTACHED}' WHERE document_id = :doc AND recipient = :who",
            who=ACKNOWLEDGED,
        ),
        ("分发文件",),
    ),
    "documents.sign (签发人)": Case(
        sql("UPDATE documents SET sign = '李红梅' WHERE id = :doc"), ("公文记录与归档时一致",)
    ),
    "archive_records.manifest_sha256": Case(
        sql(f"UPDATE archive_records SET manifest_sha256 = '{'0' * 64}' WHERE document_id = :doc"),
        ("固定性（SHA-256/SM3）", "归档记录"),
    ),
    "archive_records.versions": Case(record_versions_swapped, ("文件齐全",)),
    "archive_records.archive_code": Case(
        sql("UPDATE archive_records SET archive_code = 'J001-WS·2022-D30-0009' WHERE document_id = :doc"),
        ("归档记录", "元数据与文件一致"),
    ),
    "archive_records.item_no": Case(
        sql("UPDATE archive_records SET item_no = 7 WHERE document_id = :doc"), ("件号连续",), None
    ),
    "reference counter rolled back": Case(
        sql("UPDATE reference_counters SET last_serial = last_serial - 1"), ("发文顺序号连续",), None
    ),
    "reference counter moved ahead": Case(
        sql("UPDATE reference_counters SET last_serial = last_serial + 5"), ("发文顺序号连续",), None
    ),
    "decision opinion": Case(
        sql("UPDATE decisions SET opinion = '不同意' WHERE document_id = :doc AND step = '签发'"),
        ("审批记录与审计日志一致",),
    ),
    "decision person": Case(
        sql("UPDATE decisions SET person = '张伟' WHERE document_id = :doc AND step = '签发'"),
        ("审批记录与审计日志一致",),
    ),
    "decision verdict flipped": Case(
        sql("UPDATE decisions SET approve = FALSE WHERE document_id = :doc AND step = '核稿'"),
        ("审批记录与审计日志一致",),
    ),
    "decision deleted": Case(
        sql("DELETE FROM decisions WHERE document_id = :doc AND step = '签发'"), ("审批记录与审计日志一致",)
    ),
    "audit row changed": Case(
        sql("UPDATE audit_events SET actor = '他人' WHERE action = 'register' AND document_id = :doc"),
        ("审计链",),
        None,
    ),
    "audit row deleted": Case(
        sql("DELETE FROM audit_events WHERE action = 'print' AND document_id = :doc"),
        ("审计链", "归档审计轨迹仍在审计链中"),
        None,
    ),
    "audit row inserted": Case(audit_row_inserted, ("审计链",), None),
    "forged audit entry appended with a valid hash": Case(forged_entry_appended, ("分发记录与审计日志一致",)),
    "trailing audit rows deleted": Case(chain_truncated(move_head=False), ("审计链",), None),
    "audit chain truncated at its head": Case(
        chain_truncated(move_head=True), ("办理状态与审计日志一致", "分发记录与审计日志一致")
    ),
    "签收 erased from a resealed chain and its delivery": Case(receipt_erased, ("审计链锚点",), None),
    "签收 backdated in a resealed chain and its delivery": Case(receipt_backdated, ("审计链锚点",), None),
    "delivery row deleted": Case(
        sql("DELETE FROM deliveries WHERE document_id = :doc AND recipient = '开封市公安局'"),
        ("分发记录与审计日志一致",),
    ),
    "delivery status changed": Case(
        sql(
            "UPDATE deliveries SET status = 'acknowledged' WHERE id = (SELECT MIN(id) FROM deliveries WHERE status = 'sent')"
        ),
        ("分发记录与审计日志一致",),
    ),
    "delivery recipient changed": Case(
        sql(
            "UPDATE deliveries SET recipient = '开封市某局' WHERE id = (SELECT MIN(id) FROM deliveries WHERE status = 'sent')"
        ),
        ("分发记录与审计日志一致",),
    ),
    "delivery address changed": Case(
        sql(
            "UPDATE deliveries SET address = 'forged@example.cn' WHERE document_id = :doc AND recipient = :who",
            who=ACKNOWLEDGED,
        ),
        ("分发记录与审计日志一致",),
    ),
}


def s3_client(office: Office):
    return office.store.client, office.store.bucket


def s3_new_version(name: str) -> Callable[[Office], None]:
    """The owner's key puts new bytes over an archived key (RGW keeps the old version: a new one)."""

    def tamper(office: Office) -> None:
        client, bucket = s3_client(office)
        client.put_object(bucket, f"{record(office).prefix}/{name}", io.BytesIO(b"forged"), 6)

    return tamper


def s3_delete_marker(office: Office) -> None:
    client, bucket = s3_client(office)
    client.remove_object(bucket, f"{record(office).prefix}/document.pdf")


def s3_metadata_replaced(office: Office) -> None:
    """copy-object onto itself with REPLACE metadata: RGW stores it as a new version."""
    client, bucket = s3_client(office)
    key = f"{record(office).prefix}/metadata.json"
    client.copy_object(
        bucket,
        key,
        CopySource(bucket, key),
        metadata={"x-amz-meta-archive-code": "J001-WS-2099-0001"},
        metadata_directive=REPLACE,
    )


def s3_legal_hold_lifted(office: Office) -> None:
    """The owner's key may switch a legal hold off (only retention binds the owner)."""
    client, bucket = s3_client(office)
    found = record(office)
    client.disable_object_legal_hold(bucket, f"{found.prefix}/{PDF}", found.versions[PDF])


PDF = "document.pdf"


def s3_anchor_hold_lifted(office: Office) -> None:
    """The owner's key switches the anchor's legal hold off, on the way to deleting it."""
    client, bucket = s3_client(office)
    [anchor] = office.store.versions(audit_anchors.PREFIX)
    client.disable_object_legal_hold(bucket, anchor.key, anchor.version_id)


def s3_anchor_delete_marker(office: Office) -> None:
    client, bucket = s3_client(office)
    [anchor] = office.store.versions(audit_anchors.PREFIX)
    client.remove_object(bucket, anchor.key)


STORE_CASES_RGW = {
    **{f"new bytes over {name}": Case(s3_new_version(name), ("无意外版本",)) for name in FILES},
    "a delete marker": Case(s3_delete_marker, ("无意外版本",)),
    "object metadata replaced by a copy": Case(s3_metadata_replaced, ("无意外版本",)),
    "legal hold of a 永久 document lifted": Case(s3_legal_hold_lifted, ("保留与法律保留",), permanent=True),
    "legal hold of the audit anchor lifted": Case(s3_anchor_hold_lifted, ("审计链锚点",), None),
    "a delete marker on the audit anchor": Case(s3_anchor_delete_marker, ("审计链锚点",), None),
}

# ---------------------------------------------------------------- the checks


@pytest.fixture(scope="module")
def local_office(tmp_path_factory, notice, pins) -> Office:
    """The office on the local archive folder and SQLite, built once and copied for each case."""
    return office(tmp_path_factory.mktemp("tampering") / "home", notice, pins)


def caught(home: Path, case: Case) -> None:
    code, data = gongwen_json(home, "audit", "verify", "--all")
    failed = [c for c in data["checks"] if not c["ok"]]
    assert code == 1 and data["ok"] is False
    names = {c["name"] for c in failed}
    assert set(case.caught_by) <= names, failed
    if case.ref is not None:
        for name in case.caught_by:
            assert any(c["name"] == name and c.get("ref") == case.ref for c in failed), (name, failed)
        untouched = DISPATCHED_REF if case.ref == ARCHIVED_REF else ARCHIVED_REF
        assert all(c.get("ref") != untouched for c in failed), "the untouched document is named"
    code, out, err = gongwen(home, "audit", "verify", "--all")
    assert code == 1 and "Traceback" not in out + err
    for name in case.caught_by:
        lines = [line for line in out.splitlines() if line.startswith("失败") and name in line]
        assert any(case.ref is None or case.ref in line for line in lines), (name, out)


@pytest.mark.parametrize(
    "case", [*STORE_CASES_LOCAL.values(), *DATABASE_CASES.values()], ids=[*STORE_CASES_LOCAL, *DATABASE_CASES]
)
def test_local_store_and_sqlite(local_office, tmp_path, case):
    office_ = copied(local_office, tmp_path / "home")
    case.tamper(office_)
    caught(office_.home, case)


@pytest.fixture
def on_rgw(monkeypatch, rgw_server):  # noqa: F811
    """The GONGWEN_ environment of an office on a fresh bucket of Ceph RGW (SQLite in its home)."""
    s3_environment(monkeypatch, rgw_server, f"gw-{uuid.uuid4().hex[:16]}", rgw_server.access_key, rgw_server.secret_key)


@pytest.mark.parametrize("case", STORE_CASES_RGW.values(), ids=STORE_CASES_RGW)
def test_ceph_rgw(tmp_path, notice, pins, on_rgw, case):
    spec = notice.model_copy(update={"retention": Retention.PERMANENT}) if case.permanent else notice
    office_ = office(tmp_path / "home", spec, pins)
    case.tamper(office_)
    caught(office_.home, case)


#: Database cases again on PostgreSQL (with the bucket on RGW): its SQL, types and locks.
POSTGRES_CASES = {
    name: DATABASE_CASES[name]
    for name in (
        "documents.body",
        "a delivery's recorded attachment digest",
        "delivery row deleted",
        "audit chain truncated at its head",
        "reference counter rolled back",
    )
}


@pytest.mark.parametrize("case", POSTGRES_CASES.values(), ids=POSTGRES_CASES)
def test_ceph_rgw_and_postgresql(tmp_path, notice, pins, on_rgw, postgres_url, monkeypatch, case):
    monkeypatch.setenv("GONGWEN_DATABASE_URL", postgres_url)
    office_ = office(tmp_path / "home", notice, pins)
    case.tamper(office_)
    caught(office_.home, case)


# ---------------------------------------------------------------- what was signed is what is issued
#
# A third copy of the seed notice goes through 签发 in the copied office (汴打假〔2022〕5号 once
# registered); each case tampers with it, or with the 已归档 汴打假〔2022〕4号, between two steps, checks
# that the next step refuses it — exit 1, the 公文编号 or 发文字号 named, the refusal audited, nothing
# taken — and that, forced past, ``audit verify --all`` names the link that broke.

THIRD_REF = "汴打假〔2022〕5号"
CONTENT_EDITS = {
    "正文": "UPDATE documents SET body = body || '（签发后补充一句）' WHERE id = :doc",
    "附件": f"UPDATE documents SET attachments = '{ATTACHMENT}' WHERE id = :doc",
    "审批路径": "UPDATE documents SET sign = '李红梅' WHERE id = :doc",
}


@pytest.fixture
def fresh(local_office, tmp_path) -> Office:
    return copied(local_office, tmp_path / "home")


def refusals(office: Office, action: str, document_id: int) -> list[str]:
    """The reasons of the ``action`` entries (…_refused) about a document."""
    with office.db.transaction() as session:
        query = select(AuditEvent.detail).where(AuditEvent.action == action, AuditEvent.document_id == document_id)
        return [json.loads(detail)["reason"] for detail in session.exec(query)]


def print_test_files(office: Office, document_id: int) -> None:
    """印制 of small real files (as access_tamper_helpers' office prints its documents)."""
    record_printed(
        office.db,
        document_id=document_id,
        files=[
            Printed("document.docx", docx_with(THIRD_REF, "标题")),
            Printed("document.pdf", pdf_with("Notice"), pages=1),
        ],
    )


def refused_by_issue(office: Office, document_id: int, step: str, named: str) -> None:
    """``gongwen issue`` stops at ``step`` with exit 1 naming the document; the refusal is audited once."""
    code, data = gongwen_json(office.home, "issue", str(document_id))
    assert code == 1 and named in data["error"] and f"拒绝{step}" in data["error"], data
    action = {"登记": "register_refused", "印制": "print_refused"}[step]
    assert refusals(office, action, document_id) == [data["error"]]


@pytest.mark.parametrize("edit", CONTENT_EDITS.values(), ids=CONTENT_EDITS)
def test_content_edited_between_signing_and_registration(fresh, notice, pins, edit):
    document_id = signed_document(fresh.db, notice, pins).id
    sql(edit, doc=document_id)(fresh)
    refused_by_issue(fresh, document_id, "登记", f"公文 {document_id}的内容")
    with fresh.db.transaction() as session:
        assert session.exec(select(Document.state, Document.ref).where(Document.id == document_id)).one() == (
            "signed",
            None,
        )
    # forced past: the 签发's digest erased from its row (as for a document signed before digests were kept)
    sql("UPDATE decisions SET content_sha256 = NULL, content_sm3 = NULL WHERE document_id = :doc", doc=document_id)(
        fresh
    )
    assert str(registration.register(fresh.db, document_id=document_id)) == THIRD_REF
    print_test_files(fresh, document_id)
    assert gongwen_json(fresh.home, "archive", str(document_id))[0] == 0
    caught(fresh.home, Case(lambda _: None, ("签发内容", "审批记录与审计日志一致"), THIRD_REF))


def test_body_edited_between_registration_and_printing(fresh, notice, pins):
    document_id = signed_document(fresh.db, notice, pins).id
    assert str(registration.register(fresh.db, document_id=document_id)) == THIRD_REF
    sql("UPDATE documents SET body = '另一篇正文' WHERE id = :doc", doc=document_id)(fresh)
    refused_by_issue(fresh, document_id, "印制", f"公文 {document_id}（{THIRD_REF}）")  # refused before rendering
    with fresh.db.transaction() as session:
        assert session.exec(select(PrintedFile).where(PrintedFile.document_id == document_id)).all() == []
    caught(fresh.home, Case(lambda _: None, ("签发内容",), THIRD_REF))


def test_printed_pdf_replaced_between_printing_and_archiving(fresh, notice, pins):
    document_id = signed_document(fresh.db, notice, pins).id
    registration.register(fresh.db, document_id=document_id)
    print_test_files(fresh, document_id)
    forged = pdf_with("Forged")
    swap = "UPDATE printed_files SET content = :forged, sha256 = :digest WHERE document_id = :doc AND name = 'document.pdf'"
    sql(swap, forged=forged, digest=hashlib.sha256(forged).hexdigest(), doc=document_id)(fresh)
    code, data = gongwen_json(fresh.home, "archive", str(document_id))
    assert code == 1 and f"（{THIRD_REF}）的印制文件 document.pdf" in data["error"], data
    assert refusals(fresh, "archive_refused", document_id) == [data["error"]]
    with fresh.db.transaction() as session:
        assert archiving.find_record(session, document_id=document_id) is None
    caught(fresh.home, Case(lambda _: None, ("印制文件",), THIRD_REF))


def outbox_pdfs(office: Office, ref: str) -> list[bytes]:
    """The PDF attached to each message about ``ref`` in the office's outbox."""
    found = []
    for path in sorted((office.home / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if ref in message["Subject"]:
            found += [part.get_content() for part in message.iter_attachments()]
    return found


def test_stored_pdf_replaced_after_archiving_reaches_no_recipient(fresh):
    """printed_files' PDF of the 已归档 汴打假〔2022〕4号 replaced before 核发: every message carries the
    archived PDF, none the forged one; audit verify names the printed file."""
    forged = pdf_with("Forged")
    swap = "UPDATE printed_files SET content = :forged, sha256 = :digest WHERE document_id = :doc AND name = 'document.pdf'"
    sql(swap, forged=forged, digest=hashlib.sha256(forged).hexdigest(), doc=fresh.archived)(fresh)
    code, data = gongwen_json(fresh.home, "distribute", str(fresh.archived))
    assert (code, data["state"], data["sent"]) == (0, "dispatched", 32), data
    archived_pdf = fresh.store.get(f"{record(fresh, fresh.archived).prefix}/document.pdf")
    sent = outbox_pdfs(fresh, ARCHIVED_REF)
    assert len(sent) == 32 and set(sent) == {archived_pdf} and forged not in sent
    caught(fresh.home, Case(lambda _: None, ("印制文件",), ARCHIVED_REF))


def test_archived_pdf_changed_before_dispatch_stops_it_with_nothing_sent(fresh):
    found = record(fresh, fresh.archived)
    path = fresh.store.root / "objects" / found.prefix / "document.pdf" / found.versions["document.pdf"]
    path.chmod(0o644)
    path.write_bytes(path.read_bytes().replace(b"Notice", b"Forged"))
    before = sorted((fresh.home / "outbox").glob("*.eml"))
    code, data = gongwen_json(fresh.home, "distribute", str(fresh.archived))
    assert code == 1 and ARCHIVED_REF in data["error"] and "document.pdf 与清单不符" in data["error"], data
    assert sorted((fresh.home / "outbox").glob("*.eml")) == before and outbox_pdfs(fresh, ARCHIVED_REF) == []
    assert refusals(fresh, "dispatch_refused", fresh.archived) == [data["error"]]
    caught(fresh.home, Case(lambda _: None, ("固定性（SHA-256/SM3）",), ARCHIVED_REF))
