"""Access: whoever may not do something is refused (exit 3), the refusal is audited, and nothing else changes.

Each case runs the real command in a copy of a prepared home and checks three things: the exit code
and the field named; exactly one new audit entry, with the action of the refusal, who tried and the
reason; and every other table exactly as before (documents, decisions, deliveries, counters,
archive records, printed files).

On Ceph RGW (a real S3 server with object lock): gongwen configured by mistake with an auditor's
read-only key is refused by the server when it archives — gongwen audits ``archive_refused`` naming
the key — and every write an auditor's key tries directly in the bucket (put, overwrite, deleting a
version, a delete marker, retention, legal hold, the bucket policy) is refused by RGW and recorded
in RGW's own ops log with the auditor's identity.
"""

from __future__ import annotations

import datetime as dt
import email
import io
import json
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from pathlib import Path

import pytest
import yaml
from minio import Minio
from minio.commonconfig import GOVERNANCE, REPLACE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error
from minio.retention import Retention
from sqlalchemy import text

from models.tables import AuditEvent
from storage.archive.s3 import S3ArchiveStore
from storage.database import Database
from tests.conftest import EXAMPLE
from tests.flows.dispatch_helpers import ack_code
from tests.reliability.access_tamper_helpers import (
    ACKNOWLEDGED,
    DISPATCHED_REF,
    DRAFTER,
    REGISTRAR,
    REVIEWER,
    SIGNER,
    Office,
    copied,
    gongwen,
    gongwen_json,
    office,
    s3_environment,
)
from tests.servers.rgw import RgwServer, read_only_policy
from tests.storage.archive.conftest import rgw_server  # noqa: F401 - Ceph RGW, started once
from tests.storage.archive.helpers import printed_document

#: Tables a refusal must leave as they were (the audit log gets exactly one entry).
TABLES = ("documents", "document_versions", "decisions", "reference_counters", "deliveries", "printed_files")


def snapshot(db: Database, tables=TABLES) -> dict[str, list]:
    with db.engine.connect() as connection:
        return {t: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {t}")).all()), key=repr) for t in tables}


def last_audit_id(db: Database) -> int:
    with db.engine.connect() as connection:
        return connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_events")).scalar_one()


def entries_after(db: Database, after: int) -> list[AuditEvent]:
    with db.transaction() as session:
        rows = session.exec(AuditEvent.__table__.select().where(AuditEvent.id > after).order_by(AuditEvent.id))
        return [AuditEvent(**row._mapping) for row in rows]


@dataclass(frozen=True)
class Refusal:
    """What the refused command must show: its field, and the audit entry's action, actor and reason."""

    field: str
    action: str
    actor: str
    reason: str


def refused(home: Path, db: Database, args: list[str], expected: Refusal, tables=TABLES) -> None:
    """Run ``args``: exit 3 naming the field, one audit entry saying who and why, nothing else changed."""
    before, mark = snapshot(db, tables), last_audit_id(db)
    code, data = gongwen_json(home, *args)
    assert (code, data["field"]) == (3, expected.field), data
    assert expected.reason in data["error"], data
    [entry] = entries_after(db, mark)
    detail = json.loads(entry.detail)
    assert (entry.action, entry.actor) == (expected.action, expected.actor)
    assert expected.reason in detail["reason"], detail
    assert snapshot(db, tables) == before
    assert gongwen_json(home, "audit", "verify", "--all")[0] == 0  # the refusal's entry keeps everything consistent


# ---------------------------------------------------------------- 核稿 / 签发 decisions and 拟稿


@pytest.fixture(scope="module")
def signing_template(tmp_path_factory) -> Path:
    """The seed notice drafted by 郭佳佳, 核稿 passed by 李红梅: awaiting 陈立新's 签发 (no lifecycle run)."""
    home = tmp_path_factory.mktemp("access") / "home"
    home.mkdir()
    assert gongwen(home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    drafter = ("--as", DRAFTER, "--pin", "417305")
    assert gongwen_json(home, "draft", str(EXAMPLE / "notice.yaml"), *drafter) == (0, {"id": 1, "warnings": []})
    assert gongwen_json(home, "submit", "1", *drafter)[0] == 0
    assert gongwen_json(home, "decide", "1", "--as", REVIEWER, "--pin", "582916", "--approve")[0] == 0
    assert gongwen_json(home, "show", "1")[1]["state"] == "awaiting_signature"
    return home


def home_db(home: Path) -> Database:
    return Database.from_url(f"sqlite:///{home / 'gongwen.db'}")


DECISIONS = {
    "wrong PIN": (SIGNER, "000000", Refusal("pin", "decision_refused", SIGNER, "PIN 不正确")),
    "a person without the role (the drafter deciding 签发)": (
        DRAFTER,
        "417305",
        Refusal("as", "decision_refused", DRAFTER, "没有签发权限"),
    ),
    "a signer not on the document's route": (
        "刘志强",
        "750413",
        Refusal("as", "decision_refused", "刘志强", "不在本文的签发人员中"),
    ),
    "a person not in the directory": (
        "无名氏",
        "123456",
        Refusal("as", "decision_refused", "无名氏", "目录中没有人员"),
    ),
    "a reviewer deciding 签发 with their own PIN": (
        REVIEWER,
        "582916",
        Refusal("as", "decision_refused", REVIEWER, "没有签发权限"),
    ),
}


@pytest.mark.parametrize("who", DECISIONS.values(), ids=DECISIONS)
def test_a_decision_is_refused_and_audited(signing_template, tmp_path, who):
    name, pin, expected = who
    home = tmp_path / "home"
    shutil.copytree(signing_template, home)
    db = home_db(home)
    refused(home, db, ["decide", "1", "--as", name, "--pin", pin, "--approve"], expected)
    assert gongwen_json(home, "show", "1")[1]["state"] == "awaiting_signature"


def test_the_drafter_cannot_be_the_signer_of_their_own_document(tmp_path):
    """拟稿人不得签发本人拟稿的公文: a directory where the drafter also holds the signer role, a spec naming
    them as 签发人 — the draft is refused, audited, and no document is stored."""
    directory = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
    for person in directory["people"]:
        if person["name"] == DRAFTER:
            person["roles"] = ["drafter", "signer"]
    spec = yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8"))
    spec["approval"] = {**spec.get("approval", {}), "sign": DRAFTER}
    (tmp_path / "directory.yaml").write_text(yaml.safe_dump(directory, allow_unicode=True), encoding="utf-8")
    (tmp_path / "notice.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    home = tmp_path / "home"
    assert gongwen(home, "org", "load", str(tmp_path / "directory.yaml"))[0] == 0
    expected = Refusal("approval.sign", "draft_refused", DRAFTER, "不能作为本文的签发人")
    refused(home, home_db(home), ["draft", str(tmp_path / "notice.yaml"), "--as", DRAFTER, "--pin", "417305"], expected)


# ---------------------------------------------------------------- 签收 and the registrar's corrections


@pytest.fixture(scope="module")
def dispatched_template(tmp_path_factory, notice, pins) -> Office:
    return office(tmp_path_factory.mktemp("access") / "home", notice, pins)


@pytest.fixture
def dispatched(dispatched_template, tmp_path) -> Office:
    return copied(dispatched_template, tmp_path / "home")


def a_code(office_: Office) -> str:
    """The 签收码 in the outbox message to one recipient that has not signed yet."""
    with office_.db.engine.connect() as connection:
        signed = connection.execute(
            text("SELECT address FROM deliveries WHERE recipient = :who"), {"who": ACKNOWLEDGED}
        ).scalar_one()
    for path in sorted((office_.home / "outbox").rglob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if signed not in str(message["To"]):
            return ack_code(message)
    raise AssertionError("no message in the outbox")


NOTICE = str(EXAMPLE / "notice.yaml")
#: The drafter's actions on the office's 草稿 (document 3) and on its 已核发 document (1): the PIN first,
#: then the state, the role and the document's own drafter.
DRAFTERS_ONLY = {
    "draft with a wrong PIN": (
        ["draft", NOTICE, "--as", DRAFTER, "--pin", "000000"],
        Refusal("pin", "draft_refused", DRAFTER, "PIN 不正确"),
    ),
    "submit with a wrong PIN": (
        ["submit", "3", "--as", DRAFTER, "--pin", "000000"],
        Refusal("pin", "submit_refused", DRAFTER, "PIN 不正确"),
    ),
    "submit by a reviewer": (
        ["submit", "3", "--as", REVIEWER, "--pin", "582916"],
        Refusal("as", "submit_refused", REVIEWER, "没有送审权限"),
    ),
    "revise by the signer": (
        ["revise", "3", NOTICE, "--as", SIGNER, "--pin", "861527"],
        Refusal("as", "revise_refused", SIGNER, "没有修改权限"),
    ),
    "revise with a wrong PIN": (
        ["revise", "3", NOTICE, "--as", DRAFTER, "--pin", "000000"],
        Refusal("pin", "revise_refused", DRAFTER, "PIN 不正确"),
    ),
    "withdraw by a reviewer": (
        ["withdraw", "3", "--as", REVIEWER, "--pin", "582916"],
        Refusal("as", "withdraw_refused", REVIEWER, "没有撤销权限"),
    ),
    "withdraw with a wrong PIN": (
        ["withdraw", "3", "--as", DRAFTER, "--pin", "000000"],
        Refusal("pin", "withdraw_refused", DRAFTER, "PIN 不正确"),
    ),
    "withdraw a dispatched document": (
        ["withdraw", "1", "--as", DRAFTER, "--pin", "417305"],
        Refusal("state", "withdraw_refused", DRAFTER, "不能执行「撤销」"),
    ),
}


@pytest.mark.parametrize("attempt", DRAFTERS_ONLY.values(), ids=DRAFTERS_ONLY)
def test_the_drafters_commands_refuse_anyone_else_and_a_wrong_pin(dispatched, attempt):
    args, expected = attempt
    refused(dispatched.home, dispatched.db, args, expected)


def test_a_reused_ack_code_is_refused_and_audited(dispatched):
    code = a_code(dispatched)
    assert gongwen_json(dispatched.home, "ack", "--code", code)[0] == 0
    expected = Refusal("code", "ack_refused", "系统", "不能重复签收")
    refused(dispatched.home, dispatched.db, ["ack", "--code", code], expected)


def test_an_unknown_ack_code_is_refused_and_audited(dispatched):
    expected = Refusal("code", "ack_refused", "系统", "签收码无效")
    refused(dispatched.home, dispatched.db, ["ack", "--code", "AAAAAAAAAAAAAAAAAAAAAA"], expected)


REGISTRAR_ONLY = {
    "settle by the drafter": (
        ["settle", DISPATCHED_REF, "--recipient", ACKNOWLEDGED, "--sent", "--as", DRAFTER, "--pin", "417305"],
        Refusal("as", "settle_refused", DRAFTER, "没有核发权限"),
    ),
    "settle by the registrar with a wrong PIN": (
        ["settle", DISPATCHED_REF, "--recipient", ACKNOWLEDGED, "--unsent", "--as", REGISTRAR, "--pin", "000000"],
        Refusal("pin", "settle_refused", REGISTRAR, "PIN 不正确"),
    ),
    "distribute --retry-failed by a signer": (
        ["distribute", "1", "--retry-failed", "--as", SIGNER, "--pin", "861527"],
        Refusal("as", "retry_refused", SIGNER, "没有核发权限"),
    ),
    "distribute --retry-failed by the auditor": (
        ["distribute", "1", "--retry-failed", "--as", "孙敏", "--pin", "905162"],
        Refusal("as", "retry_refused", "孙敏", "没有核发权限"),
    ),
}


@pytest.mark.parametrize("attempt", REGISTRAR_ONLY.values(), ids=REGISTRAR_ONLY)
def test_registrar_only_commands_refuse_anyone_else(dispatched, attempt):
    args, expected = attempt
    refused(dispatched.home, dispatched.db, args, expected)


# ---------------------------------------------------------------- an auditor's key on Ceph RGW


def owner_bucket(rgw: RgwServer) -> str:
    """A fresh object-locked bucket whose policy lets the auditor read it."""
    bucket = f"gw-{uuid.uuid4().hex[:16]}"
    owner = S3ArchiveStore.connect(rgw.endpoint, rgw.access_key, rgw.secret_key, bucket=bucket, secure=False)
    owner.ensure_bucket()
    owner.client.set_bucket_policy(bucket, read_only_policy(bucket, rgw.auditor_arn))
    return bucket


def test_gongwen_with_an_auditor_key_is_refused_and_audits_it(tmp_path, monkeypatch, rgw_server, notice, pins):  # noqa: F811
    bucket = owner_bucket(rgw_server)
    s3_environment(monkeypatch, rgw_server, bucket, rgw_server.auditor_access_key, rgw_server.auditor_secret_key)
    home = tmp_path / "home"
    home.mkdir()
    assert gongwen(home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    db = home_db(home)
    document_id = printed_document(db, notice, pins)
    reason = f"AccessDenied，访问密钥 {rgw_server.auditor_access_key}"
    expected = Refusal("credentials", "archive_refused", "系统", reason)
    tables = tuple(t for t in TABLES if t != "reference_counters")
    refused(home, db, ["archive", str(document_id)], expected, tables)
    assert gongwen_json(home, "show", str(document_id))[1]["state"] == "printed"
    owner = Minio(rgw_server.endpoint, rgw_server.access_key, rgw_server.secret_key, secure=False)
    assert list(owner.list_objects(bucket, recursive=True, include_version=True)) == []

    def denied_here(entry: dict) -> bool:
        return entry["bucket"] == bucket and entry["http_status"] == "403"

    denied = [e for e in ops_log_lines(rgw_server, denied_here) if denied_here(e)]
    assert {(e["user"], e["operation"]) for e in denied} == {(rgw_server.auditor_user, "put_obj")}  # RGW's side


@pytest.fixture(scope="module")
def archived_on_rgw(tmp_path_factory, rgw_server, notice, pins):  # noqa: F811
    """A package archived by gongwen (owner key) into a bucket the auditor may read; its key → version."""
    bucket = owner_bucket(rgw_server)
    with pytest.MonkeyPatch.context() as patch:
        s3_environment(patch, rgw_server, bucket, rgw_server.access_key, rgw_server.secret_key)
        built = office(tmp_path_factory.mktemp("access") / "home", notice, pins)
        with built.db.transaction() as session:
            record = session.exec(text("SELECT prefix, versions FROM archive_records ORDER BY id")).first()
    versions = json.loads(record.versions) if isinstance(record.versions, str) else record.versions
    keys = {f"{record.prefix}/{name}": version for name, version in versions.items()}
    auditor = Minio(rgw_server.endpoint, rgw_server.auditor_access_key, rgw_server.auditor_secret_key, secure=False)
    return rgw_server, bucket, keys, auditor, built.home


def test_an_auditor_key_reads_and_verifies_the_archive(archived_on_rgw, monkeypatch):
    """What the auditor's key is for: 四性检测 of everything archived, through gongwen, reading only."""
    rgw, bucket, _, _, home = archived_on_rgw
    s3_environment(monkeypatch, rgw, bucket, rgw.auditor_access_key, rgw.auditor_secret_key)
    code, data = gongwen_json(home, "audit", "verify", "--all")
    assert (code, data["ok"], data["packages"]) == (0, True, 2)


PDF = "document.pdf"


def _key(keys: dict[str, str], name: str = PDF) -> tuple[str, str]:
    return next((key, version) for key, version in keys.items() if key.endswith("/" + name))


AUDITOR_WRITES: dict[str, tuple[str, Callable]] = {
    "put a new object": ("put_obj", lambda a, b, k: a.put_object(b, "J001/forged.pdf", io.BytesIO(b"x"), 1)),
    "overwrite an archived key": (
        "put_obj",
        lambda a, b, k: a.put_object(b, _key(k)[0], io.BytesIO(b"forged"), 6),
    ),
    "copy over an archived key with new metadata": (
        "copy_obj",
        lambda a, b, k: a.copy_object(
            b, _key(k)[0], CopySource(b, _key(k)[0]), metadata={"x-amz-meta-x": "y"}, metadata_directive=REPLACE
        ),
    ),
    "delete an archived version": ("delete_obj", lambda a, b, k: a.remove_object(b, *_key(k))),
    "delete (a delete marker)": ("delete_obj", lambda a, b, k: a.remove_object(b, _key(k)[0])),
    "multi-object delete bypassing governance": (
        "multi_object_delete",
        lambda a, b, k: list(a.remove_objects(b, [DeleteObject(*_key(k))], bypass_governance_mode=True)),
    ),
    "shorten the retention": (
        "put_obj_retention",
        lambda a, b, k: a.set_object_retention(
            b, _key(k)[0], Retention(GOVERNANCE, dt.datetime.now(dt.UTC) + dt.timedelta(days=1)), version_id=_key(k)[1]
        ),
    ),
    "set a legal hold": ("put_obj_legal_hold", lambda a, b, k: a.enable_object_legal_hold(b, _key(k)[0], _key(k)[1])),
    "lift a legal hold": ("put_obj_legal_hold", lambda a, b, k: a.disable_object_legal_hold(b, _key(k)[0], _key(k)[1])),
    "replace the bucket policy": (
        "put_bucket_policy",
        lambda a, b, k: a.set_bucket_policy(b, read_only_policy(b, "arn:aws:iam:::user/*")),
    ),
    "delete the bucket policy": ("delete_bucket_policy", lambda a, b, k: a.delete_bucket_policy(b)),
}


def ops_log_lines(rgw: RgwServer, until: Callable[[dict], bool], wait: float = 10) -> list[dict]:
    """RGW's ops log entries (JSON lines), once one satisfies ``until`` (or after ``wait`` seconds)."""
    deadline = time.monotonic() + wait
    while True:
        lines = [json.loads(line) for line in rgw.ops_log.read_text().splitlines() if line.strip()]
        if any(until(e) for e in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.1)


@pytest.mark.parametrize("attempt", AUDITOR_WRITES.values(), ids=AUDITOR_WRITES)
def test_an_auditor_key_cannot_write_in_the_bucket_and_rgw_logs_the_refusal(archived_on_rgw, attempt):
    rgw, bucket, keys, auditor, _ = archived_on_rgw
    operation, call = attempt
    owner = Minio(rgw.endpoint, rgw.access_key, rgw.secret_key, secure=False)
    before = sorted(
        (o.object_name, o.version_id) for o in owner.list_objects(bucket, recursive=True, include_version=True)
    )
    policy_before = owner.get_bucket_policy(bucket)
    with pytest.raises(S3Error) as error:
        call(auditor, bucket, keys)
    assert error.value.code == "AccessDenied"
    after = sorted(
        (o.object_name, o.version_id) for o in owner.list_objects(bucket, recursive=True, include_version=True)
    )
    assert after == before and owner.get_bucket_policy(bucket) == policy_before

    def this_request(entry: dict) -> bool:
        return entry["trans_id"] == error.value.request_id

    [entry] = [e for e in ops_log_lines(rgw, this_request) if this_request(e)]
    assert (entry["user"], entry["access_key_id"]) == (rgw.auditor_user, rgw.auditor_access_key)
    assert (entry["operation"], entry["http_status"], entry["error_code"]) == (operation, "403", "AccessDenied")
    assert entry["bucket"] == bucket
