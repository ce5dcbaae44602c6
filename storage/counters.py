"""Gap-free counters: 发文顺序号 per (机关代字, 年份), 件号 per (全宗号, 年度, 保管期限).

``take_next`` / ``take_next_item`` increment the counter row with ``UPDATE … RETURNING``, which
holds the row lock (PostgreSQL) or the database's writer lock (SQLite,
``BEGIN IMMEDIATE``) until the caller's transaction ends. A number is thus
taken only by a transaction that commits the registration too: a rolled-back
registration gives its number back, so the sequence has no gap.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, select

from models.tables import ItemCounter, ReferenceCounter


def _insert(session: Session):
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def _take_next(session: Session, table: type[SQLModel], column: str, **keys: object) -> int:
    """Increment ``column`` of the row at ``keys`` (created at 0 if absent) and return it."""
    counter = getattr(table, column)
    bump = (
        update(table)
        .where(*(getattr(table, name) == value for name, value in keys.items()))
        .values({column: counter + 1})
        .returning(counter)
    )
    value = session.execute(bump).scalar()
    if value is None:
        create = _insert(session)(table).values(**keys, **{column: 0})
        session.execute(create.on_conflict_do_nothing())
        value = session.execute(bump).scalar_one()
    return value


def take_next(session: Session, *, code: str, year: int) -> int:
    """The next 发文顺序号 for (code, year), locked until the transaction ends."""
    return _take_next(session, ReferenceCounter, "last_serial", code=code, year=year)


def take_next_item(session: Session, *, fonds: str, year: int, retention: str) -> int:
    """The next 件号 within (全宗号, 年度, 保管期限), locked until the transaction ends."""
    return _take_next(session, ItemCounter, "last_item", fonds=fonds, year=year, retention=retention)


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
