"""下载链接: the signed, time-limited address at the 门户 of a file of one document — an archived file
(归档文件: its object key and version in the archive store) or the PDF of a draft's version (草稿 PDF).

The token (itsdangerous, the gongwen secret key, a salt of its own) names the document and the file; its
signature carries the time it was made, and it lives GONGWEN_LINK_MINUTES from then. Opening it (the gateway,
gongwen.gateway.downloads) checks the signature and the age first, then who opens it
(models.document_readers). An altered token is ``LinkAltered``, an old one ``LinkExpired``; both say in
Chinese what to do. Nothing secret is in a token: it is signed, not encrypted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from models.errors import NotAllowed

SALT = "gongwen-download-link"
PATH = "/gateway/files/"


class LinkAltered(NotAllowed):
    """The token is not one gongwen signed (altered, cut short, or signed with another key)."""


class LinkExpired(NotAllowed):
    """The token was signed by gongwen but has outlived its minutes."""


@dataclass(frozen=True)
class ArchivedFile:
    """An archived file of a document: its key and version in the archive store."""

    document_id: int
    key: str
    version_id: str


@dataclass(frozen=True)
class DraftPdf:
    """The PDF of version ``version`` of a document (印制 on demand, before 登记: no 发文字号)."""

    document_id: int
    version: int


Download = ArchivedFile | DraftPdf


def filename(download: Download) -> str:
    """The name the file is downloaded as: an archived file's own (document.pdf …), a draft's by its version."""
    if isinstance(download, ArchivedFile):
        return download.key.rsplit("/", 1)[-1]
    return f"公文{download.document_id}-第{download.version}稿.pdf"


@dataclass(frozen=True)
class DownloadLinks:
    """Makes and reads the download links of one installation (its key, its 门户 address, their lifetime)."""

    key: bytes
    base_url: str  # the 门户 as staff open it: GONGWEN_PUBLIC_URL, else gongwen server's gateway address
    lifetime: dt.timedelta  # GONGWEN_LINK_MINUTES

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("download links need a secret key")

    def url(self, download: Download, *, made_at: dt.datetime | None = None) -> str:
        """The link to ``download``, valid for ``lifetime`` from ``made_at`` (now)."""
        return f"{self.base_url.rstrip('/')}{PATH}{self.token(download, made_at=made_at)}"

    def token(self, download: Download, *, made_at: dt.datetime | None = None) -> str:
        if isinstance(download, ArchivedFile):
            payload = {"d": download.document_id, "k": download.key, "v": download.version_id}
        else:
            payload = {"d": download.document_id, "p": download.version}
        at = int((made_at or dt.datetime.now(dt.UTC)).timestamp())
        return URLSafeTimedSerializer(self.key, salt=SALT, signer=_SignedAt, signer_kwargs={"at": at}).dumps(payload)

    def read(self, token: str, *, now: dt.datetime | None = None) -> Download:
        """What ``token`` names; LinkAltered or LinkExpired otherwise (``now``: the time it is opened)."""
        try:
            payload, signed_at = URLSafeTimedSerializer(self.key, salt=SALT).loads(token, return_timestamp=True)
        except BadSignature:
            raise LinkAltered(_ALTERED, "token") from None
        if (now or dt.datetime.now(dt.UTC)) - signed_at > self.lifetime:
            minutes = int(self.lifetime.total_seconds() // 60)
            raise LinkExpired(f"下载链接已过期（有效期 {minutes} 分钟），请回到流程运行的产出物页面重新打开", "token")
        return _download(payload)


class _SignedAt(TimestampSigner):
    """itsdangerous's timestamp signer, stamping a given time (the link's making) instead of the clock's."""

    def __init__(self, *args, at: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.at = at

    def get_timestamp(self) -> int:
        return self.at


_ALTERED = "下载链接无效（已被改动或不是本系统生成的），请回到流程运行的产出物页面重新打开"


def _download(payload: object) -> Download:
    """The file a verified payload names (a signed payload of another shape is treated as altered)."""
    if isinstance(payload, dict) and isinstance(payload.get("d"), int):
        if isinstance(payload.get("k"), str) and isinstance(payload.get("v"), str):
            return ArchivedFile(payload["d"], payload["k"], payload["v"])
        if isinstance(payload.get("p"), int):
            return DraftPdf(payload["d"], payload["p"])
    raise LinkAltered(_ALTERED, "token")
