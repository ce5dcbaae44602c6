"""What the 门户 needs: where Prefect listens, the keys, the database, the session limits, and where the
download links' files come from."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from doc_templates import PdfConverter
from models.download_links import DownloadLinks
from storage.archive.base import ArchiveStore
from storage.database import Database
from storage.sign_in_sessions import Limits


@dataclass(frozen=True)
class Files:
    """The download links' side (gongwen.gateway.downloads): the links, the archive store (opened on the first
    download), and a PDF converter for a draft's PDF (the PDF service's client, or None: one-shot LibreOffice)."""

    links: DownloadLinks = field(repr=False)
    archive_store: Callable[[], ArchiveStore]
    converter: Callable[[], PdfConverter | None]


@dataclass(frozen=True)
class GatewayConfig:
    """The gateway's settings (gongwen.settings builds it from GONGWEN_* variables)."""

    upstream: str  # the Prefect server, e.g. http://127.0.0.1:4201 (its API under /api)
    auth_string: str = field(repr=False)  # user:password the Prefect server requires
    secret_key: bytes = field(repr=False)  # signs the sign-in cookie, download links and 门户签章
    db: Database = field(repr=False)
    public_url: str | None = None  # the address staff open (https://…); None: the request's own
    limits: Limits = Limits()
    totp_roles: frozenset[str] = frozenset({"signer", "administrator", "operator"})
    files: Files | None = None  # None: download links are answered 503

    @property
    def upstream_authorization(self) -> str:
        return "Basic " + base64.b64encode(self.auth_string.encode()).decode()

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent over TLS only when staff reach the gateway by https."""
        return bool(self.public_url) and urlsplit(self.public_url).scheme == "https"
