"""登录会话: who is signed in at the 门户, by the token their browser cookie or command line holds.

A session's token is random (256 bits) and shown once, to the person's client; the database keeps its
SHA-256 only, so whoever reads the database cannot take over a session. A session ends when the person
signs out, when it has been idle longer than ``idle`` or lived longer than ``lifetime``
(GONGWEN_SESSION_IDLE_MINUTES, GONGWEN_SESSION_HOURS). Its last use is written at most once a minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from models.sign_in_tables import SignInSession
from models.tables import utcnow

BROWSER, COMMAND_LINE = "浏览器", "命令行"
_TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Limits:
    """How long a session may be idle, and live at most."""

    idle: dt.timedelta = dt.timedelta(minutes=30)
    lifetime: dt.timedelta = dt.timedelta(hours=12)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, *, name: str, kind: str) -> str:
    """A new session for ``name``; its token (returned once)."""
    token = secrets.token_urlsafe(32)
    session.add(SignInSession(token_sha256=digest(token), name=name, kind=kind))
    return token


def resolve(session: Session, *, token: str, limits: Limits, now: dt.datetime | None = None) -> str | None:
    """The name of the person whose live session ``token`` is; None if unknown, ended or expired
    (an expired one is ended here)."""
    row = session.get(SignInSession, digest(token))
    if row is None or row.ended_at is not None:
        return None
    now = now or utcnow()
    if now - _aware(row.last_seen_at) > limits.idle or now - _aware(row.started_at) > limits.lifetime:
        row.ended_at = now
        session.add(row)
        return None
    if now - _aware(row.last_seen_at) > _TOUCH_EVERY:
        row.last_seen_at = now
        session.add(row)
    return row.name


def end(session: Session, *, token: str) -> None:
    """Sign out: the session ends now."""
    row = session.get(SignInSession, digest(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)


def end_all(session: Session, *, name: str) -> int:
    """End every live session of ``name`` (a new password, a person removed); how many ended."""
    rows = session.exec(
        select(SignInSession).where(SignInSession.name == name, SignInSession.ended_at.is_(None))  # type: ignore[union-attr]
    ).all()
    for row in rows:
        row.ended_at = utcnow()
        session.add(row)
    return len(rows)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes (stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
