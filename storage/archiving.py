"""归档: put one document's package into the archive store, once.

``archive`` first reserves the document's 件号 (storage.counters) and 档号: an
``ArchiveRecord`` without a manifest yet, committed on its own, so that the keys
under that 档号 belong to this document before any file is put there. Then, in
one transaction under the document's row lock, it builds the package (the
printed .docx and PDF, ``metadata.json``, ``audit-trail.json`` and the manifest
with SHA-256 and SM3), puts every file into the store under the retention of the
保管期限, completes the record and moves the document to 已归档 with an audit
entry holding the manifest hash.

- Idempotent: a document with an archive record returns that record.
- What is archived is what was signed and printed: the content must still be the one
  the 签发 recorded (storage.signing.check_signed) and each printed file's bytes those
  印制 recorded (storage.printing.check_printed) — checked before the 档号 is reserved
  and again under the lock; else VerificationFailed naming the 发文字号, and nothing is
  put. The manifest carries the signed content's digests and the printed files' SHA-256.
- The 归档 entry records the manifest's hash, the document row's fingerprint
  (models.archive_package.record_fingerprint), which 四性检测 recomputes, the signed
  content's digests and the archived printed files' SHA-256.
- A store refusing gongwen's key, and a document refused by those checks, are audited
  (``archive_refused``).
- ``issued_files``: 核发's attachments, read back from the archive and checked against
  the manifest (a mismatch stops 核发 before anything is sent, audited ``dispatch_refused``).
- Outage- and crash-safe: if the store fails or the process dies, that
  transaction rolls back (the document stays 已印制) and keeps its reserved
  档号; files already put by the failed attempt are found by their hash and
  reused by the next attempt, so the retry adds no second version — and no
  other document is ever given a 档号 whose keys hold files of this one (the
  locked versions could never be removed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlmodel import Session, select

from models import archive_package as pkg
from models.errors import InputError, NotFound, StoreRefused, VerificationFailed
from models.lifecycle import Action, State, transition
from models.signed_content import LEGACY
from models.tables import ArchiveRecord, AuditEvent, Document, utcnow
from models.vocabulary import Retention
from storage import audit_log, counters, documents, signing
from storage.archive.base import ArchiveStore, Lock, LockMode, StoredVersion
from storage.directory_store import load_directory
from storage.printing import check_printed, printed_files
from storage.transitions import SYSTEM, move

SHA256_METADATA = "sha256"
#: How much earlier a reused version's retention may end than a fresh one would (retries come within hours).
RETRY_WINDOW = dt.timedelta(days=1)


def package_metadata(document: Document, record: ArchiveRecord) -> dict[str, object]:
    """metadata.json: every 要素 of the document, its 档号 and 归档章 fields."""
    return {
        "document_id": document.id,
        "archive_code": record.archive_code,
        "fonds": record.fonds,
        "year": record.year,
        "retention": record.retention,
        "item_no": record.item_no,
        "pages": record.pages,
        "ref": document.ref,
        "doc_type": document.doc_type,
        "issuers": document.issuers,
        "title": document.title,
        "to": document.to,
        "cc_report": document.cc_report,
        "cc": document.cc,
        "date": (document.date or document.signed_on).isoformat(),
        "signed_on": document.signed_on.isoformat() if document.signed_on else None,
        "printer": document.printer,
        "secret": document.secret,
        "urgency": document.urgency,
        "drafter": document.drafter,
        "approval": {"review": document.review, "cosign": document.cosign, "sign": document.sign},
        "attachments": [a["title"] for a in document.attachments],
        "stamp": pkg.stamp_fields(
            pkg.ArchiveStamp(record.fonds, record.year, record.retention, record.item_no, record.pages)
        ),
    }


def trail_json(entries: list[AuditEvent]) -> bytes:
    """audit-trail.json: the document's audit entries with their chain hashes."""
    rows = [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "detail": json.loads(e.detail),
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in entries
    ]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode()


def find_record(session: Session, *, document_id: int) -> ArchiveRecord | None:
    """The document's archive record once it is archived (None before, and while its 档号 is only reserved)."""
    record = _reserved(session, document_id=document_id)
    return record if record is not None and record.manifest_sha256 else None


def _reserved(session: Session, *, document_id: int) -> ArchiveRecord | None:
    return session.exec(select(ArchiveRecord).where(ArchiveRecord.document_id == document_id)).first()


def _reserve(db, *, document_id: int, store_name: str) -> ArchiveRecord:
    """The document's record, its 件号 and 档号 taken and committed before any file is put under them."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        record = _reserved(session, document_id=document_id)
        if record is None:
            transition(State(document.state), Action.ARCHIVE)
            _issued_as_signed(session, document)  # before a 件号 is taken for it
            record = _new_record(session, document, store_name)
            session.add(record)
        return record


def archive(
    db,
    store: ArchiveStore,
    *,
    document_id: int,
    store_name: str,
    lock_mode: LockMode = "COMPLIANCE",
    now: dt.datetime | None = None,
) -> ArchiveRecord:
    """Archive a 已印制 document once; return its record.

    A store that refuses gongwen's key (StoreRefused: say an auditor's read-only key set by mistake) is
    audited as ``archive_refused`` with the reason, which names the key, then raised; so is a document
    whose content or printed files are not those signed and printed (VerificationFailed)."""
    try:
        return _archive(db, store, document_id, store_name, lock_mode, now)
    except (StoreRefused, VerificationFailed) as refusal:
        with db.transaction() as session:
            detail = {"store": store_name, "reason": refusal.message}
            audit_log.append(session, actor=SYSTEM, action="archive_refused", document_id=document_id, detail=detail)
        raise


def _archive(
    db, store: ArchiveStore, document_id: int, store_name: str, lock_mode: LockMode, now: dt.datetime | None
) -> ArchiveRecord:
    reserved = _reserve(db, document_id=document_id, store_name=store_name)
    if reserved.manifest_sha256:
        return reserved
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        record = _reserved(session, document_id=document_id)
        if record.manifest_sha256:
            return record  # completed meanwhile by another run
        transition(State(document.state), Action.ARCHIVE)
        issued = _issued_as_signed(session, document)
        files = _package_files(session, document, record)
        content = pkg.manifest(record.archive_code, files, signed=issued["signed"], printed=issued["files"])
        files[pkg.MANIFEST] = pkg.manifest_bytes(content)
        archived_at = now or utcnow()
        until, hold = pkg.lock_until(Retention(record.retention), archived_at)
        lock = Lock(lock_mode, until, hold)
        record.manifest_sha256 = pkg.manifest_hash(content)
        record.archived_at = archived_at
        record.versions = {
            name: _put_once(store, f"{record.prefix}/{name}", data, lock, record).version_id
            for name, data in files.items()
        }
        session.add(record)
        session.flush()
        move(
            session,
            document,
            Action.ARCHIVE,
            actor=SYSTEM,
            detail={
                "archive_code": record.archive_code,
                "manifest_sha256": record.manifest_sha256,
                "record_sha256": pkg.record_fingerprint(document.model_dump()),
                **issued["content"],
                "files": issued["files"],
            },
        )
        return record


def _issued_as_signed(session: Session, document: Document) -> dict[str, dict]:
    """归档's checks: the content is the one signed and the printed files those 印制 recorded. What the 归档
    entry records of them (``content``), the signed digests for the manifest (``signed``, None for
    早期签发) and the printed files' SHA-256 (``files``)."""
    content = signing.check_signed(session, document, step="归档")
    files = check_printed(session, document, printed_files(session, document_id=document.id))
    signed = None if content.get("signed_content") == LEGACY else content
    return {"content": content, "signed": signed, "files": files}


def issued_files(db, store: ArchiveStore, *, document_id: int, names: tuple[str, ...]) -> dict[str, bytes]:
    """核发's attachments (``names``, e.g. document.pdf): the files as archived, read from the store at their
    recorded versions and checked against the package's manifest (its hash the one recorded at 归档, each
    file's SHA-256 and SM3 the manifest's) — never the printed_files rows, which stay writable. A file that
    does not match stops 核发 before anything is sent: VerificationFailed naming the 发文字号, audited as
    ``dispatch_refused``."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id)
        record = find_record(session, document_id=document_id)
    named = f"公文 {document_id}（{document.ref}）"
    refused = {"actor": SYSTEM, "action": "dispatch_refused", "document_id": document_id}
    stopped = "核发已停止，未发出任何分发"
    with audit_log.refusals_audited(db, **refused, refusals=(VerificationFailed,)):
        if record is None:
            raise VerificationFailed(f"{named}没有归档包，{stopped}", "archive")
        manifest = _archived_file(store, record, pkg.MANIFEST, f"{named}归档包缺少 {pkg.MANIFEST}，{stopped}")
        if hashlib.sha256(manifest).hexdigest() != record.manifest_sha256:
            raise VerificationFailed(f"{named}归档包的清单与归档记录不符，{stopped}", "archive")
        listed = {entry["name"]: entry for entry in json.loads(manifest)["files"]}
        files = {}
        for name in names:
            files[name] = _archived_file(store, record, name, f"{named}归档包缺少 {name}，{stopped}")
            fixity = pkg.digest(files[name])
            if name not in listed or any(fixity[a] != listed[name][a] for a in ("sha256", "sm3")):
                raise VerificationFailed(f"{named}归档的 {name} 与清单不符（文件被改动），{stopped}", "archive")
        return files


def _archived_file(store: ArchiveStore, record: ArchiveRecord, name: str, missing: str) -> bytes:
    """A file of the package at its recorded version; VerificationFailed(``missing``) if it is not there."""
    try:
        return store.get(f"{record.prefix}/{name}", record.versions[name])
    except (KeyError, NotFound):
        raise VerificationFailed(missing, "archive") from None


def _new_record(session: Session, document: Document, store_name: str) -> ArchiveRecord:
    directory = load_directory(session)
    lead = directory.agency(document.issuers[0], "issuer[0]")
    if not lead.fonds:
        raise InputError(f"「{lead.name}」没有全宗号，不能归档", "fonds")
    retention = Retention(document.retention)
    year = (document.date or document.signed_on).year
    item_no = counters.take_next_item(session, fonds=lead.fonds, year=year, retention=retention.value)
    code = pkg.archive_code(lead.fonds, year, retention, item_no)
    printed = printed_files(session, document_id=document.id)
    pdf = printed.get("document.pdf")
    return ArchiveRecord(
        document_id=document.id,
        archive_code=code,
        fonds=lead.fonds,
        year=year,
        retention=retention.value,
        item_no=item_no,
        pages=pdf.pages if pdf and pdf.pages else 0,
        store=store_name,
        prefix=pkg.object_key(lead.fonds, year, retention, code, "").rstrip("/"),
        manifest_sha256="",
    )


def _package_files(session: Session, document: Document, record: ArchiveRecord) -> dict[str, bytes]:
    printed = printed_files(session, document_id=document.id)
    missing = [name for name in ("document.docx", "document.pdf") if name not in printed]
    if missing:
        raise InputError(f"公文 {document.id} 缺少印制文件：{'、'.join(missing)}", "printed_files")
    metadata = json.dumps(package_metadata(document, record), ensure_ascii=False, indent=1).encode()
    return {
        "document.docx": printed["document.docx"].content,
        "document.pdf": printed["document.pdf"].content,
        "metadata.json": metadata,
        "audit-trail.json": trail_json(audit_log.trail(session, document_id=document.id)),
    }


def _holds(kept: Lock | None, wanted: Lock) -> bool:
    """A version found from an earlier attempt is reused only if still locked as asked."""
    return kept is not None and kept.legal_hold >= wanted.legal_hold and kept.until >= wanted.until - RETRY_WINDOW


def _put_once(store: ArchiveStore, key: str, data: bytes, lock: Lock, record: ArchiveRecord) -> StoredVersion:
    """Put a file unless an earlier, interrupted attempt already stored these exact bytes."""
    digest = pkg.digest(data)["sha256"]
    for version in store.versions(key):
        if version.key == key and version.metadata.get(SHA256_METADATA) == digest and _holds(version.lock, lock):
            return version
    metadata = {SHA256_METADATA: digest, "archive_code": record.archive_code, "retention": record.retention}
    return store.put(key, data, metadata=metadata, lock=lock)
