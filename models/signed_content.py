"""签发内容: the content of a 公文 as its 签发人 signed it, as canonical bytes and their digests — pure.

What is signed is every 公文要素 of the current version — 文种, 发文机关, 标题, 主送, 正文, 附件, 印发件,
附注, 成文日期, 抄报, 抄送, 印发机关 and 印发日期, 份号, 密级 and 保密期限, 紧急程度, 保管期限 — and the
审批路径 it went through (核稿, 会签, 签发人): the columns of ``models.tables.DocumentContent``.
``canonical_content`` writes them as canonical JSON (sorted keys at every depth, no spaces, UTF-8,
dates as ISO text), so the same content gives the same bytes whatever order its keys come in;
``content_digest`` gives their SHA-256 and SM3 (GB/T 32905, the archive manifest's implementation,
models.archive_package.digest).

签发 records the digest (storage.signing); 登记, 印制 and 归档 refuse a document whose content no
longer has it (``check_unchanged``), and 四性检测 follows it through every later step. A document
signed before the digest was recorded (早期签发) cannot be checked: ``check_unchanged`` says so in
the detail it returns, for the step's audit entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.archive_package import digest
from models.audit_chain import canonical_json
from models.errors import VerificationFailed
from models.tables import DocumentContent

#: Names the layout of the canonical bytes; a new layout would take a new name.
FORMAT = "gongwen-signed-content-1"
#: The 审批路径 columns (the rest of ``CONTENT_FIELDS`` are the 公文要素).
ROUTE_FIELDS = ("review", "cosign", "sign")
#: Every column of the signed content, by name.
CONTENT_FIELDS = tuple(DocumentContent.model_fields)
#: What a step's audit entry records when the 签发 recorded no digest (早期签发).
LEGACY = "legacy"


@dataclass(frozen=True)
class ContentDigest:
    """SHA-256 and SM3 of the canonical bytes of a document's content."""

    sha256: str
    sm3: str

    def as_detail(self) -> dict[str, str]:
        """The fields an audit entry records."""
        return {"content_sha256": self.sha256, "content_sm3": self.sm3}


def content_of_row(row: Any) -> dict[str, Any]:
    """The signed columns of a document row — an ORM ``Document``, a SQLAlchemy or a psycopg row — by name."""
    return {name: getattr(row, name) for name in CONTENT_FIELDS}


def _plain(value: Any) -> Any:
    """``value`` as JSON values: dates as ISO text, tuples as lists, at every depth."""
    if isinstance(value, str | int | float | None):  # most values: first, before the slower checks
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def canonical_content(content: Mapping[str, Any]) -> bytes:
    """The canonical bytes of ``content`` (every name of ``CONTENT_FIELDS``; other keys are not signed).

    ``{"format", "elements": {the 公文要素}, "route": {review, cosign, sign}}`` as canonical JSON.
    A missing field is a KeyError: the content of a document always has them all.
    """
    elements = {name: content[name] for name in CONTENT_FIELDS if name not in ROUTE_FIELDS}
    route = {name: content[name] for name in ROUTE_FIELDS}
    return canonical_json({"format": FORMAT, "elements": _plain(elements), "route": _plain(route)}).encode()


def content_digest(content: Mapping[str, Any]) -> ContentDigest:
    """SHA-256 and SM3 of ``canonical_content(content)``."""
    fixity = digest(canonical_content(content))
    return ContentDigest(str(fixity["sha256"]), str(fixity["sm3"]))


def check_unchanged(
    content: Mapping[str, Any], signed_sha256: str | None, *, step: str, document_id: int, ref: str | None = None
) -> dict[str, Any]:
    """登记 / 印制 / 归档 of a 已签发 document: its content now against the SHA-256 its 签发 recorded.

    Returns what the step's audit entry records: the digests of the content it went on with, and
    ``signed_content: legacy`` when the 签发 recorded none (``signed_sha256`` None: 早期签发, nothing
    to check against). A content that differs raises VerificationFailed naming the 公文编号 (and the
    发文字号 once there is one) and the step refused.
    """
    now = content_digest(content)
    if signed_sha256 is None:
        return {**now.as_detail(), "signed_content": LEGACY}
    if now.sha256 != signed_sha256:
        named = f"公文 {document_id}" + (f"（{ref}）" if ref else "")
        raise VerificationFailed(
            f"{named}的内容（正文、要素或审批路径）与签发时不符，拒绝{step}："
            f"签发时内容的 SHA-256 为 {signed_sha256}，现为 {now.sha256}",
            "content",
        )
    return now.as_detail()
