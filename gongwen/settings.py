"""Settings: one pydantic-settings class, read from ``GONGWEN_*`` variables (design.md §3.4).

Only this package reads the environment; adapters get explicit arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from delivery.retry import RetryPolicy
from doc_templates.pdf_service import service_address
from models.errors import InputError
from models.validation import input_error
from storage.database import sqlite_url


class Settings(BaseSettings):
    """Everything gongwen can be configured with."""

    model_config = SettingsConfigDict(env_prefix="GONGWEN_", extra="ignore")

    home: Path = Path(".gongwen")
    database_url: str | None = None
    archive: Literal["local", "s3"] = "local"
    archive_lock_mode: Literal["COMPLIANCE", "GOVERNANCE"] = "COMPLIANCE"
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "gongwen"
    s3_secure: bool = True
    mail: Literal["outbox", "smtp"] = "outbox"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "ssl"] = "none"
    smtp_ca_file: Path | None = None
    mail_from: str = "gongwen@localhost"
    mail_attach_docx: bool = False
    mail_attempts: int = Field(default=RetryPolicy.attempts, ge=1, le=10)
    mail_backoff: float = Field(default=RetryPolicy.backoff, ge=0, le=60)
    mail_record_patience: float = Field(default=RetryPolicy.record_patience, ge=0, le=3600)
    mail_connections: int = Field(default=4, ge=1, le=32)
    remind_after_days: float = Field(default=3, gt=0)
    escalate_after: int = Field(default=2, ge=1)
    link_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    server_port: int = Field(default=4200, ge=1, le=65535)
    wait_seconds: float = Field(default=120, gt=0, le=24 * 3600)
    prefect_api_url: str | None = Field(default=None, validation_alias="PREFECT_API_URL")
    converter_url: str | None = None
    converters: int = Field(default=2, ge=1, le=32)
    converter_recycle: int = Field(default=200, ge=1, le=100_000)
    converter_timeout: float = Field(default=60, gt=0, le=3600)
    secret_key: SecretStr | None = None  # 64 hex digits; else <home>/secret.key (gongwen.keys)
    public_url: str | None = None  # the 门户's address as staff open it (https://…)
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(default=8080, ge=1, le=65535)
    prefect_upstream: str | None = None  # gongwen gateway alone: the Prefect server behind it
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_hours: int = Field(default=12, ge=1, le=7 * 24)
    totp_roles: str = "signer,administrator,operator"  # who must give a TOTP code at the 门户

    @field_validator("secret_key")
    @classmethod
    def _hex_key(cls, key: SecretStr | None) -> SecretStr | None:
        """GONGWEN_SECRET_KEY: at least 64 hexadecimal digits (32 bytes)."""
        if key is not None:
            value = key.get_secret_value()
            if len(value) < 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
                raise ValueError("须为至少 64 位十六进制数字")
        return key

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, url: str | None) -> str | None:
        """GONGWEN_PUBLIC_URL: http(s)://主机[:端口], no path."""
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("须以 https:// 开头")
        return url.rstrip("/") if url else None

    @field_validator("converter_url")
    @classmethod
    def _service_url(cls, url: str | None) -> str | None:
        """GONGWEN_CONVERTER_URL: the PDF conversion service, http://主机:端口."""
        if url:
            service_address(url)
        return url or None

    @property
    def mail_retry(self) -> RetryPolicy:
        """核发's one retry layer (delivery.retry): GONGWEN_MAIL_ATTEMPTS, GONGWEN_MAIL_BACKOFF and
        GONGWEN_MAIL_RECORD_PATIENCE."""
        return RetryPolicy(
            attempts=self.mail_attempts, backoff=self.mail_backoff, record_patience=self.mail_record_patience
        )

    @property
    def effective_database_url(self) -> str:
        """GONGWEN_DATABASE_URL, else the SQLite file under GONGWEN_HOME."""
        return self.database_url or sqlite_url(self.home.resolve() / "gongwen.db")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad value is an InputError naming the variable."""
    try:
        settings = Settings(**{key: value for key, value in overrides.items() if value is not None})
    except ValidationError as exc:
        error = input_error(exc)
        raise InputError(error.message, f"GONGWEN_{error.field.upper()}") from None
    try:
        settings.mail_retry.check()
    except ValueError as exc:  # a claim could outlive the registrar's 核实 grace: refuse the combination
        raise InputError(str(exc), "GONGWEN_MAIL_ATTEMPTS") from None
    return settings
