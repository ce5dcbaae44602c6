"""PIN 锁定: a person whose PIN (or 门户 password) was given wrong ``MAX_WRONG_PINS`` times within
``WINDOW`` is locked for ``LOCK``: while locked, even the right PIN or password is refused
(``check_unlocked``, called by storage.directory_store.prove before it checks the PIN, and by the
门户's sign-in before it checks the password: gongwen.gateway.signin). The two count together.

A wrong PIN is refused inside the action's transaction, which is rolled back; so it is counted
(``record_wrong_pin``) afterwards, in the transaction of its own that audits the refusal
(storage.audit_log.refusals_audited). That transaction has locked the audit chain's head, so two
wrong PINs are counted one after the other on SQLite and PostgreSQL alike. Counts are per name in
the directory (an unknown name is refused before any PIN is checked, and counts against nobody);
the wrong PINs that started a lock do not count toward the next one.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_
from sqlmodel import Session, select

from models.errors import RefusedDecision
from models.tables import PinFailure, utcnow
from models.vocabulary import OFFICE_ZONE

#: Wrong PINs within WINDOW that lock the person, and for how long.
MAX_WRONG_PINS = 5
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)


def check_unlocked(session: Session, *, name: str, now: dt.datetime | None = None) -> None:
    """RefusedDecision (field ``pin``) while ``name`` is locked, saying until when (the office's time)."""
    query = select(func.max(PinFailure.locked_until)).where(PinFailure.name == name)
    until = session.exec(query).one()
    if until is not None and _utc(until) > (now or utcnow()):
        local = _utc(until).astimezone(OFFICE_ZONE)
        raise RefusedDecision(f"「{name}」连续 {MAX_WRONG_PINS} 次 PIN 或密码错误，已锁定至 {local:%H:%M}", "pin")


def record_wrong_pin(session: Session, *, name: str, now: dt.datetime | None = None) -> dt.datetime | None:
    """Count a wrong PIN for ``name``; the end of the lock it starts, if it is the MAX_WRONG_PINS-th
    within WINDOW since the last lock began (None otherwise). Older wrong PINs are forgotten."""
    now = now or utcnow()
    session.exec(
        delete(PinFailure).where(
            PinFailure.name == name,
            PinFailure.at < now - WINDOW,
            or_(PinFailure.locked_until.is_(None), PinFailure.locked_until < now),
        )
    )
    failure = PinFailure(name=name, at=now)
    session.add(failure)
    session.flush()
    last_lock = session.exec(
        select(func.max(PinFailure.at)).where(PinFailure.name == name, PinFailure.locked_until.is_not(None))
    ).one()
    since = max(now - WINDOW, _utc(last_lock)) if last_lock is not None else now - WINDOW
    counted = select(func.count()).select_from(PinFailure).where(PinFailure.name == name, PinFailure.at > since)
    if session.exec(counted).one() < MAX_WRONG_PINS:
        return None
    failure.locked_until = now + LOCK
    session.add(failure)
    session.flush()
    return failure.locked_until


def _utc(at: dt.datetime) -> dt.datetime:
    """A time read back from the database, in UTC (SQLite gives it back without its zone)."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
