"""SQLModel tables of the 门户 (sign-in gateway): what proves a person at the door.

- ``SignInCredential``: a person's password (argon2id hash only), whether it is a one-time password
  still to be changed, and the TOTP second factor (RFC 6238) — its secret, whether the person has
  confirmed it, and the last time step used (a code is accepted once);
- ``SignInSession``: a signed-in person's session (browser cookie or command-line token), kept as the
  SHA-256 of its token only, with its start, last use and end;
- ``UsedStamp``: the nonce of every 门户签章 a flow run has accepted (an answer or a start is taken once).

They live in gongwen's database, which the Prefect server never reads.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Field, SQLModel

from models.tables import utcnow


class SignInCredential(SQLModel, table=True):
    """登录凭据 of one directory person (by name)."""

    __tablename__ = "sign_in_credentials"
    name: str = Field(primary_key=True)
    password_hash: str = Field(repr=False)
    must_change: bool = True
    totp_secret: str | None = Field(default=None, repr=False)
    totp_confirmed: bool = False
    totp_last_step: int = 0
    updated_at: dt.datetime = Field(default_factory=utcnow)


class SignInSession(SQLModel, table=True):
    """登录会话: the SHA-256 of its token, whose it is, and how long it has lived."""

    __tablename__ = "sign_in_sessions"
    token_sha256: str = Field(primary_key=True)
    name: str = Field(index=True)
    kind: str  # 浏览器 | 命令行
    started_at: dt.datetime = Field(default_factory=utcnow)
    last_seen_at: dt.datetime = Field(default_factory=utcnow)
    ended_at: dt.datetime | None = None


class UsedStamp(SQLModel, table=True):
    """A 门户签章 already taken by a run (its nonce), for whom and for what."""

    __tablename__ = "used_stamps"
    nonce: str = Field(primary_key=True)
    person: str
    target: str
    used_at: dt.datetime = Field(default_factory=utcnow)
