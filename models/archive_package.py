"""The archive package of one 件 (DA/T 22-2015 归档文件整理规则) — pure rules.

- 档号: 全宗号-WS·年度-保管期限代码-件号, e.g. ``J001-WS·2022-D30-0003``; 件号 four digits, zero padded, consecutive
  within (全宗号, 年度, 保管期限).
- 归档章 fields: 全宗号, 年度, 保管期限, 件号, 页数.
- Object keys: ``<全宗号>/<年度>/<保管期限代码>/<档号>/<file>``.
- Manifest: every file with its size, SHA-256 and SM3 (GB/T 32905); the digests of
  the content as signed (签发内容, models.signed_content; absent for 早期签发) and the
  SHA-256 of each printed file as 印制 recorded it; the manifest's own SHA-256 is what
  the database and the audit chain record.
- Record fingerprint: the SHA-256 of the document's row as archived, kept in the 归档 entry.
- Retention: 10年 and 30年 lock the objects for that many years from archiving;
  永久 adds a legal hold on top of the longest retention the servers keep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass

from models.audit_chain import canonical_json
from models.vocabulary import Retention

CATEGORY = "WS"  # 文书档案
PERMANENT_LOCK_YEARS = 100
#: The latest retain-until S3 servers keep: Ceph RGW stores it as 32-bit seconds
#: and silently wraps a later date to 1970, which would unlock the object.
LATEST_LOCK = dt.datetime(2106, 2, 7, 6, 28, 15, tzinfo=dt.UTC)

#: Files of a package, with the formats allowed for them (可用性).
FILES = {
    "document.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "document.pdf": "application/pdf",
    "metadata.json": "application/json",
    "audit-trail.json": "application/json",
}
MANIFEST = "manifest.json"

#: 要素 every package's metadata must carry (完整性).
REQUIRED_METADATA = (
    "archive_code",
    "fonds",
    "year",
    "retention",
    "item_no",
    "pages",
    "ref",
    "title",
    "doc_type",
    "issuers",
    "date",
    "document_id",
)


def archive_code(fonds: str, year: int, retention: Retention, item_no: int) -> str:
    """档号 of one 件 (without the optional 机构 segment)."""
    return f"{fonds}-{CATEGORY}·{year}-{retention.code}-{item_no:04d}"


def object_key(fonds: str, year: int, retention: Retention, code: str, name: str) -> str:
    return f"{fonds}/{year}/{retention.code}/{code}/{name}"


def digest(data: bytes) -> dict[str, object]:
    """Fixity of one file: size, SHA-256 and SM3."""
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "sm3": hashlib.new("sm3", data).hexdigest()}


@dataclass(frozen=True)
class ArchiveStamp:
    """归档章: the fields stamped on the first page of an archived 件."""

    fonds: str
    year: int
    retention: str
    item_no: int
    pages: int


def manifest(
    code: str, files: dict[str, bytes], *, signed: dict[str, str] | None = None, printed: dict[str, str] | None = None
) -> dict[str, object]:
    """The manifest of a package: every file's fixity, in name order; ``signed``: the signed content's
    ``content_sha256`` and ``content_sm3`` (None: 早期签发, no digest to carry); ``printed``: each printed
    file's SHA-256 as 印制 recorded it."""
    content: dict[str, object] = {
        "archive_code": code,
        "files": [{"name": name, "media_type": FILES.get(name, ""), **digest(files[name])} for name in sorted(files)],
    }
    if signed is not None:
        content["signed_content"] = {"sha256": signed["content_sha256"], "sm3": signed["content_sm3"]}
    if printed is not None:
        content["printed_files"] = dict(sorted(printed.items()))
    return content


def manifest_bytes(content: dict[str, object]) -> bytes:
    return canonical_json(content).encode()


def manifest_hash(content: dict[str, object]) -> str:
    return hashlib.sha256(manifest_bytes(content)).hexdigest()


def lock_until(retention: Retention, archived_at: dt.datetime) -> tuple[dt.datetime, bool]:
    """Retention end and legal hold for a 保管期限.

    10年 / 30年: that many years from archiving. 永久: a legal hold, plus the
    longest retention the servers keep (100 years, capped at ``LATEST_LOCK``).
    """
    years = retention.years or PERMANENT_LOCK_YEARS
    try:
        until = archived_at.replace(year=archived_at.year + years)
    except ValueError:  # 29 February
        until = archived_at.replace(year=archived_at.year + years, day=28)
    return min(until, LATEST_LOCK), retention is Retention.PERMANENT


#: Columns of a 公文 row that may still change after 归档: its 办理状态 (已核发) and bookkeeping.
MUTABLE_AFTER_ARCHIVING = frozenset({"state", "updated_at", "flow_run_id"})


def record_fingerprint(row: dict[str, object]) -> str:
    """SHA-256 of a 公文 row (its columns by name) as archived: every 要素, the 正文, the 发文字号 and the
    dates — every column but those ``MUTABLE_AFTER_ARCHIVING``. The 归档 entry records it, 四性检测
    recomputes it: an edit of the row after 归档 changes it."""
    fields = {name: value for name, value in row.items() if name not in MUTABLE_AFTER_ARCHIVING}
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def stamp_fields(stamp: ArchiveStamp) -> dict[str, object]:
    return asdict(stamp)
