"""Wiring: turn settings into the adapters the commands use."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from actions.distribution import MailOptions
from delivery import Channel, OutboxChannel, SmtpChannel
from doc_templates import PdfConverter, open_converter
from doc_templates.pdf_service import ConverterClient
from flows.runtime import Services
from gongwen.keys import secret_key
from gongwen.settings import Settings, load_settings
from models.distribution import ChasePolicy
from models.download_links import DownloadLinks
from models.errors import InputError
from storage.archive.base import ArchiveStore
from storage.archive.local import LocalArchiveStore
from storage.archive.s3 import S3ArchiveStore
from storage.database import Database
from storage.migrations import upgrade

#: What gongwen creates is its own: folders 0700, files 0600 (gongwen.db, the Prefect server's prefect.db,
#: the outbox, the archive …). The command line runs with this umask (gongwen.cli.main), and so do the
#: Prefect server, the PDF service and the flow runs it starts, which inherit it.
PRIVATE_UMASK = 0o077
#: The database files under the home (with their -wal, -shm and -journal).
_PRIVATE_FILES = ("gongwen.db*", "prefect/prefect.db*")


def keep_private(home: Path) -> None:
    """The home folder (GONGWEN_HOME) kept 0700, its databases (and their -wal, -shm, -journal) 0600, whatever
    mode an earlier version, or a process without PRIVATE_UMASK, left them with: nobody but gongwen's user
    reads anything in it."""
    home.chmod(0o700)
    for pattern in _PRIVATE_FILES:
        for path in home.glob(pattern):
            path.chmod(0o600)
    if (home / "prefect").is_dir():
        (home / "prefect").chmod(0o700)


class App:
    """The adapters for one invocation, built lazily from settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def db(self) -> Database:
        """The database, its schema brought up to date (migrations run automatically)."""
        self.settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        database = Database.from_url(self.settings.effective_database_url)
        upgrade(database.engine)
        keep_private(self.settings.home)
        return database

    def close(self) -> None:
        """Close the database's pooled connections, if it was opened: a process that runs several commands
        (the demo, tests) would otherwise keep each command's idle connections until it ends."""
        if "db" in vars(self):
            self.db.dispose()

    @cached_property
    def archive_store(self) -> ArchiveStore:
        """The archive store chosen by GONGWEN_ARCHIVE: the local folder under the home (default), or
        the S3 bucket of GONGWEN_S3_* (created with object lock if absent)."""
        settings = self.settings
        if settings.archive == "local":
            return LocalArchiveStore(settings.home.resolve() / "archive")
        for name in ("s3_endpoint", "s3_access_key", "s3_secret_key"):
            if not getattr(settings, name):
                raise InputError("使用 S3 归档时须设置此项", f"GONGWEN_{name.upper()}")
        store = S3ArchiveStore.connect(
            settings.s3_endpoint,
            settings.s3_access_key,
            settings.s3_secret_key.get_secret_value(),
            bucket=settings.s3_bucket,
            secure=settings.s3_secure,
        )
        store.ensure_bucket()
        return store

    @property
    def mail_channel(self) -> Channel:
        """The channel chosen by GONGWEN_MAIL: the outbox folder under the home, or SMTP (GONGWEN_SMTP_*) over
        up to GONGWEN_MAIL_CONNECTIONS connections at once."""
        settings = self.settings
        if settings.mail == "outbox":
            return OutboxChannel(settings.home.resolve() / "outbox")
        if not settings.smtp_host:
            raise InputError("使用 SMTP 分发时须设置邮件服务器地址", "GONGWEN_SMTP_HOST")
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_user,
            password,
            settings.mail_from,
            timeout=settings.mail_retry.timeout,
            ssl_context=self._smtp_tls_context(),
            connections=settings.mail_connections,
        )

    def _smtp_tls_context(self) -> ssl.SSLContext | None:
        """GONGWEN_SMTP_CA_FILE: trust the CA certificates in this PEM file (only them) for the server's certificate."""
        ca_file = self.settings.smtp_ca_file
        if ca_file is None:
            return None
        try:
            return ssl.create_default_context(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as error:
            raise InputError(f"无法读取 CA 证书文件 {ca_file}：{error}", "GONGWEN_SMTP_CA_FILE") from None

    @property
    def mail_options(self) -> MailOptions:
        """GONGWEN_MAIL_FROM, GONGWEN_MAIL_ATTACH_DOCX and the retry policy (Settings.mail_retry)."""
        settings = self.settings
        return MailOptions(sender=settings.mail_from, attach_docx=settings.mail_attach_docx, retry=settings.mail_retry)

    @property
    def chase_policy(self) -> ChasePolicy:
        """催办: GONGWEN_REMIND_AFTER_DAYS and GONGWEN_ESCALATE_AFTER."""
        return ChasePolicy(
            remind_after=dt.timedelta(days=self.settings.remind_after_days),
            escalate_after=self.settings.escalate_after,
        )

    def converter_client(self) -> ConverterClient | None:
        """印制 through the PDF conversion service at GONGWEN_CONVERTER_URL, if it is set
        (doc_templates.pdf_service; where it cannot be reached, one-shot LibreOffice, said once)."""
        url = self.settings.converter_url
        return ConverterClient(url, timeout=self.settings.converter_timeout) if url else None

    @contextmanager
    def converter_for(self, documents: int) -> Iterator[PdfConverter | None]:
        """The converter a command prints ``documents`` documents with, closed at the end: the service's
        client; without a service, for a batch, one LibreOffice kept running for the whole batch; for one
        document, None (print_document starts a one-shot LibreOffice)."""
        converter = self.converter_client() or (open_converter() if documents > 1 else None)
        try:
            yield converter
        finally:
            if converter is not None:
                converter.close()

    @property
    def secret_key(self) -> bytes:
        """The key of the 门户's cookies and stamps: GONGWEN_SECRET_KEY, else the home's (gongwen.keys)."""
        configured = self.settings.secret_key.get_secret_value() if self.settings.secret_key else None
        return secret_key(self.settings.home.resolve(), configured)

    @property
    def download_links(self) -> DownloadLinks:
        """Download links at the 门户 (GONGWEN_PUBLIC_URL, else gongwen server's gateway address), living
        GONGWEN_LINK_MINUTES, signed with the secret key."""
        settings = self.settings
        base = settings.public_url or f"http://{settings.gateway_host}:{settings.gateway_port}"
        return DownloadLinks(self.secret_key, base, dt.timedelta(minutes=settings.link_minutes))

    def services(self) -> Services:
        """The adapters a flow run works with (flows.runtime), with the PDF service's client when set."""
        settings = self.settings
        return Services(
            db=self.db,
            archive_store=self.archive_store,
            store_name=settings.archive,
            lock_mode=settings.archive_lock_mode,
            open_channel=lambda: self.mail_channel,
            mail=self.mail_options,
            chase=self.chase_policy,
            links=self.download_links,
            converter=self.converter_client(),
            stamp_key=self.secret_key,
        )


def services_from_environment() -> Services:
    """The ``gongwen.services`` entry point: a flow-run process's adapters, from its GONGWEN_* settings."""
    return App(load_settings()).services()
