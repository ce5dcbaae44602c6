"""发文顺序号 counters per (机关代字, 年份): gap-free, never repeated.

``take_next`` increments the counter row with ``UPDATE … RETURNING``, which
holds the row lock (PostgreSQL) or the database's writer lock (SQLite,
``BEGIN IMMEDIATE``) until the caller's transaction ends. A number is thus
taken only by a transaction that commits the registration too: a rolled-back
registration gives its number back, so the sequence has no gap.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from models.tables import ReferenceCounter


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def take_next(session: Session, *, code: str, year: int) -> int:
    """The next serial for (code, year), locked until the transaction ends."""
    bump = (
        update(ReferenceCounter)
        .where(ReferenceCounter.code == code, ReferenceCounter.year == year)
        .values(last_serial=ReferenceCounter.last_serial + 1)
        .returning(ReferenceCounter.last_serial)
    )
    serial = session.execute(bump).scalar()
    if serial is None:
        create = _insert(session)(ReferenceCounter).values(code=code, year=year, last_serial=0)
        session.execute(create.on_conflict_do_nothing())
        serial = session.execute(bump).scalar_one()
    return serial


def seed(session: Session, *, code: str, year: int, last: int) -> str | None:
    """Make sure (code, year) has used at least ``last`` numbers; never lower it."""
    row = session.get(ReferenceCounter, (code, year), with_for_update=True)
    if row is None:
        session.add(ReferenceCounter(code=code, year=year, last_serial=last))
        return None
    if row.last_serial > last:
        return f"{code}〔{year}〕已用到 {row.last_serial} 号，高于目录中的 {last}，计数器保持不变"
    row.last_serial = last
    session.add(row)
    return None


def all_counters(session: Session) -> list[ReferenceCounter]:
    return list(session.exec(select(ReferenceCounter).order_by(ReferenceCounter.code, ReferenceCounter.year)))
