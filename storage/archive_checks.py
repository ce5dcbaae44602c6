"""四性检测 (DA/T 70-2018) of archived packages: 真实性, 完整性, 可用性, 安全性.

Each check has the property it serves, a name and a Chinese detail; a package
passes when every check does. What is checked:

- 真实性 (authenticity): each stored file's SHA-256 and SM3 match the manifest;
  the manifest's hash matches the database record and the audit entry written
  when it was archived; the audit chain is intact, and still holds the entries
  the package's audit-trail.json fixed; metadata.json is what the document and
  archive records give now, and the .docx carries their 文号 and 标题; each
  version's object metadata is what 归档 wrote (storage.record_checks checks the
  records the package does not hold).
- 完整性 (integrity): every file of the package is stored and listed; the
  required metadata is present; 件号 are consecutive in (全宗号, 年度, 保管期限);
  every 已归档 document has a package.
- 可用性 (usability): the .docx and the PDF open, the PDF has pages and text,
  each file's format is the one allowed for its name.
- 安全性 (security): each recorded version is under retention or legal hold
  lasting at least its 保管期限; the keys hold no other versions and no delete
  markers.

Readers of .docx and PDF come in as arguments (``Readers``), so this module
depends only on the store interface.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel import Session, select

from models import archive_package as pkg
from models.errors import GongwenError
from models.lifecycle import State
from models.tables import ArchiveRecord, AuditEvent, Document
from models.vocabulary import Retention
from storage import audit_log
from storage.archive.base import ArchiveStore, StoredVersion
from storage.archiving import SHA256_METADATA, package_metadata

AUTHENTIC, COMPLETE, USABLE, SECURE = "真实性", "完整性", "可用性", "安全性"


@dataclass(frozen=True)
class Check:
    """One named check, of one document (its 发文字号 ``ref``) or of the archive as a whole."""

    property: str
    name: str
    ok: bool
    detail: str
    ref: str | None = None
    document_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        named = {"ref": self.ref} if self.ref is not None else {}
        if self.document_id is not None:
            named["document_id"] = self.document_id
        return {"property": self.property, "name": self.name, "ok": self.ok, "detail": self.detail, **named}


class Readers(Protocol):
    def docx_text(self, data: bytes) -> str: ...

    def pdf_facts(self, data: bytes) -> Any: ...


_MAGIC: dict[str, Callable[[bytes], bool]] = {
    "document.docx": lambda b: b.startswith(b"PK\x03\x04"),
    "document.pdf": lambda b: b.startswith(b"%PDF-"),
    "metadata.json": lambda b: _is_json(b),
    "audit-trail.json": lambda b: _is_json(b),
    pkg.MANIFEST: lambda b: _is_json(b),
}


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def check_chain(session: Session) -> Check:
    report = audit_log.verify(session)
    return Check(AUTHENTIC, "审计链", report.ok, report.reason or f"{report.checked} 条审计记录，链完整")


def check_package(
    session: Session, store: ArchiveStore, record: ArchiveRecord, readers: Readers, now: dt.datetime
) -> list[Check]:
    """Every check of one package except the chain (see ``check_chain``)."""
    document = session.get(Document, record.document_id)
    files, fetch_errors = _fetch(store, record)
    checks = [_stored_files(record, files, fetch_errors)]
    entries = _archive_entries(session, record)
    present = store.versions(record.prefix + "/")
    manifest = json.loads(files[pkg.MANIFEST]) if pkg.MANIFEST in files and _is_json(files[pkg.MANIFEST]) else None
    checks += [
        _fixity(record, files, manifest),
        _archive_entry(record, entries),
        _trail_in_chain(session, record, files),
        _metadata_matches(document, record, files, readers),
        _required_metadata(files),
        _item_numbers(session, record),
        *_usable(files, readers),
        *_secure(store, record, present, now),
        _object_metadata(record, present, manifest, entries),
    ]
    ref = document.ref if document is not None else None
    return [dataclasses.replace(check, ref=ref, document_id=record.document_id) for check in checks]


def _fetch(store: ArchiveStore, record: ArchiveRecord) -> tuple[dict[str, bytes], list[str]]:
    files, errors = {}, []
    for name, version_id in record.versions.items():
        try:
            files[name] = store.get(f"{record.prefix}/{name}", version_id)
        except GongwenError as error:
            errors.append(f"{name}：{error.message}")
    return files, errors


def _stored_files(record: ArchiveRecord, files: dict[str, bytes], errors: list[str]) -> Check:
    expected = {*pkg.FILES, pkg.MANIFEST}
    missing = sorted(expected - set(files))
    ok = not missing and not errors
    detail = "文件齐全" if ok else f"缺少或无法读取：{'、'.join(missing) or ''} {'；'.join(errors)}".strip()
    return Check(COMPLETE, "文件齐全", ok, detail)


def _fixity(record: ArchiveRecord, files: dict[str, bytes], manifest: dict | None) -> Check:
    if manifest is None:
        return Check(AUTHENTIC, "固定性（SHA-256/SM3）", False, "清单缺失或无法解析")
    if pkg.manifest_hash(manifest) != record.manifest_sha256:
        return Check(AUTHENTIC, "固定性（SHA-256/SM3）", False, "清单的哈希与数据库记录不符")
    listed = {entry["name"]: entry for entry in manifest["files"]}
    if set(listed) != set(pkg.FILES):
        return Check(AUTHENTIC, "固定性（SHA-256/SM3）", False, "清单所列文件与归档要求不符")
    for name, entry in listed.items():
        if name not in files:
            continue
        actual = pkg.digest(files[name])
        for algorithm in ("sha256", "sm3"):
            if actual[algorithm] != entry[algorithm]:
                return Check(
                    AUTHENTIC, "固定性（SHA-256/SM3）", False, f"{name} 的 {algorithm.upper()} 与清单不符（文件被改动）"
                )
    return Check(AUTHENTIC, "固定性（SHA-256/SM3）", True, f"{len(listed)} 个文件的 SHA-256 与 SM3 均与清单一致")


def _archive_entries(session: Session, record: ArchiveRecord) -> list[dict]:
    """The details of the 归档 entries of the record's document (one, unless the log was tampered with)."""
    query = select(AuditEvent.detail).where(
        AuditEvent.document_id == record.document_id, AuditEvent.action == "archive"
    )
    return [json.loads(detail) for detail in session.exec(query)]


def _archive_entry(record: ArchiveRecord, details: list[dict]) -> Check:
    ok = (
        len(details) == 1
        and details[0].get("manifest_sha256") == record.manifest_sha256
        and details[0].get("archive_code") == record.archive_code
    )
    detail = "归档记录与审计日志一致" if ok else "数据库中的归档记录与审计日志中的归档记录不符"
    return Check(AUTHENTIC, "归档记录", ok, detail)


def _trail_in_chain(session: Session, record: ArchiveRecord, files: dict[str, bytes]) -> Check:
    """The entries audit-trail.json fixed at 归档 are still in the chain, each with the same hash."""
    name = "归档审计轨迹仍在审计链中"
    if not _is_json(files.get("audit-trail.json", b"")):
        return Check(AUTHENTIC, name, False, "audit-trail.json 缺失或无法解析")
    archived = {entry["id"]: entry["hash"] for entry in json.loads(files["audit-trail.json"])}
    query = select(AuditEvent.id, AuditEvent.hash).where(AuditEvent.id.in_(list(archived)))
    present = dict(session.exec(query).all())
    changed = sorted(entry_id for entry_id, digest in archived.items() if present.get(entry_id) != digest)
    if changed:
        return Check(AUTHENTIC, name, False, f"归档时的审计记录已被删除或改动：{'、'.join(f'#{i}' for i in changed)}")
    return Check(AUTHENTIC, name, True, f"归档时的 {len(archived)} 条审计记录均在审计链中")


def _metadata_matches(
    document: Document | None, record: ArchiveRecord, files: dict[str, bytes], readers: Readers
) -> Check:
    """metadata.json is what the document and archive records give now (every 要素 it holds), and the
    docx carries their 发文字号 and 标题."""
    name = "元数据与文件一致"
    if document is None:
        return Check(AUTHENTIC, name, False, "数据库中没有对应的公文记录")
    if "metadata.json" not in files or not _is_json(files["metadata.json"]):
        return Check(AUTHENTIC, name, False, "metadata.json 缺失或无法解析")
    metadata = json.loads(files["metadata.json"])
    now = json.loads(json.dumps(package_metadata(document, record), ensure_ascii=False))
    changed = sorted(key for key in {*metadata, *now} if metadata.get(key) != now.get(key))
    if changed:
        return Check(AUTHENTIC, name, False, f"metadata.json 的 {'、'.join(changed)} 与数据库中的记录不符")
    try:
        text = _squash(readers.docx_text(files.get("document.docx", b"")))
    except GongwenError as error:
        return Check(AUTHENTIC, name, False, error.message)
    for label, value in (("发文字号", document.ref), ("标题", document.title)):
        if _squash(value or "") not in text:
            return Check(AUTHENTIC, name, False, f"docx 中的{label}与公文记录不符")
    return Check(AUTHENTIC, name, True, "元数据与 docx 中的发文字号、标题均与公文记录一致")


def _required_metadata(files: dict[str, bytes]) -> Check:
    metadata = json.loads(files["metadata.json"]) if _is_json(files.get("metadata.json", b"")) else {}
    missing = [key for key in pkg.REQUIRED_METADATA if metadata.get(key) in (None, "", [])]
    return Check(
        COMPLETE, "元数据齐全", not missing, "必备元数据齐全" if not missing else f"缺少：{'、'.join(missing)}"
    )


def _item_numbers(session: Session, record: ArchiveRecord) -> Check:
    query = select(ArchiveRecord.item_no).where(
        ArchiveRecord.fonds == record.fonds,
        ArchiveRecord.year == record.year,
        ArchiveRecord.retention == record.retention,
    )
    numbers = sorted(session.exec(query))
    ok = numbers == list(range(1, len(numbers) + 1))
    scope = f"{record.fonds}/{record.year}/{record.retention}"
    return Check(
        COMPLETE, "件号连续", ok, f"{scope} 件号 1–{len(numbers)} 连续" if ok else f"{scope} 件号不连续：{numbers}"
    )


def _usable(files: dict[str, bytes], readers: Readers) -> list[Check]:
    wrong = [name for name, data in files.items() if name in _MAGIC and not _MAGIC[name](data)]
    checks = [Check(USABLE, "格式", not wrong, "格式均在允许范围内" if not wrong else f"格式不符：{'、'.join(wrong)}")]
    try:
        readers.docx_text(files.get("document.docx", b""))
        checks.append(Check(USABLE, "docx 可打开", True, "docx 可以打开"))
    except GongwenError as error:
        checks.append(Check(USABLE, "docx 可打开", False, error.message))
    try:
        facts = readers.pdf_facts(files.get("document.pdf", b""))
        ok = facts.pages > 0 and bool(facts.text.strip())
        checks.append(Check(USABLE, "PDF 可打开且有文字", ok, f"{facts.pages} 页" if ok else "PDF 没有页面或没有文字"))
    except GongwenError as error:
        checks.append(Check(USABLE, "PDF 可打开且有文字", False, error.message))
    return checks


def _secure(store: ArchiveStore, record: ArchiveRecord, present: list[StoredVersion], now: dt.datetime) -> list[Check]:
    retention = Retention(record.retention)
    needed, hold = pkg.lock_until(retention, record.archived_at.replace(tzinfo=record.archived_at.tzinfo or dt.UTC))
    problems = []
    for name, version_id in record.versions.items():
        try:
            lock = store.stat(f"{record.prefix}/{name}", version_id).lock
        except GongwenError as error:
            problems.append(f"{name}：{error.message}")
            continue
        if lock is None or not lock.active(now) or lock.until < needed - dt.timedelta(days=1) or lock.legal_hold < hold:
            problems.append(f"{name} 未处于应有的保留期或法律保留之下")
    locked = Check(
        SECURE, "保留与法律保留", not problems, "各文件均处于保留期内" if not problems else "；".join(problems)
    )
    recorded = {(f"{record.prefix}/{n}", v) for n, v in record.versions.items()}
    extra = [
        f"{v.key}@{v.version_id}" + ("（删除标记）" if v.is_delete_marker else "")
        for v in present
        if (v.key, v.version_id) not in recorded
    ]
    versions = Check(
        SECURE, "无意外版本", not extra, "没有意外版本或删除标记" if not extra else f"意外版本：{'、'.join(extra)}"
    )
    return [locked, versions]


def _object_metadata(
    record: ArchiveRecord, present: list[StoredVersion], manifest: dict | None, entries: list[dict]
) -> Check:
    """Each recorded version's object metadata is what 归档 wrote: the file's SHA-256 (as the manifest
    lists it; the manifest's own as its 归档 entry recorded it), the 档号 and the 保管期限 — nothing else."""
    sha256 = {entry["name"]: entry["sha256"] for entry in (manifest or {}).get("files", [])}
    sha256[pkg.MANIFEST] = entries[0].get("manifest_sha256") if entries else None
    recorded = {(f"{record.prefix}/{n}", v) for n, v in record.versions.items()}
    changed = []
    for version in present:
        name = version.key.rpartition("/")[2]
        wanted = {SHA256_METADATA: sha256.get(name), "archive_code": record.archive_code, "retention": record.retention}
        if (version.key, version.version_id) in recorded and version.metadata != wanted:
            changed.append(name)
    ok = not changed
    detail = "各文件的对象元数据与归档时一致" if ok else f"对象元数据被改动：{'、'.join(changed)}"
    return Check(AUTHENTIC, "对象元数据", ok, detail)


def archived_without_package(session: Session) -> Check:
    """完整性 across the archive: every document archived (已归档, and 已核发 after it) has a package."""
    query = (
        select(Document.id)
        .where(Document.state.in_([State.ARCHIVED.value, State.DISPATCHED.value]))
        .where(Document.id.not_in(select(ArchiveRecord.document_id)))
    )
    orphans = list(session.exec(query))
    return Check(
        COMPLETE, "已归档公文均有归档包", not orphans, "全部有归档包" if not orphans else f"缺少归档包的公文：{orphans}"
    )
