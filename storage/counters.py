"""Gap-free counters: 发文顺序号 per (机关代字, 年份), 件号 per (全宗号, 年度, 保管期限).

``take_next`` / ``take_next_item`` increment the counter row with ``UPDATE … RETURNING``, which
holds the row lock (PostgreSQL) or the database's writer lock (SQLite,
``BEGIN IMMEDIATE``) until the caller's transaction ends. A number is thus
taken only by a transaction that commits the registration too: a rolled-back
registration gives its number back, so the sequence has no gap.
"""

from __future__ import annotations

from sqlalchemy import Connection, FromClause, Table, bindparam, literal, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import Insert, Update
from sqlmodel import Session, select

from models.tables import ItemCounter, ReferenceCounter

_SERIALS: Table = ReferenceCounter.__table__
_ITEMS: Table = ItemCounter.__table__
_SERIAL_KEYS, _ITEM_KEYS = ("code", "year"), ("fonds", "year", "retention")

# The statements take their key as bind parameters ``counter_<column>`` (SQLAlchemy reserves
# the bare column names in INSERT and UPDATE): ``counter_code`` and ``counter_year`` for a
# 发文字号 counter.


def _bump(table: Table, column: str, keys: tuple[str, ...]) -> Update:
    """``UPDATE table SET column = column + 1 WHERE key = :counter_key … RETURNING column``."""
    return (
        update(table)
        .where(*(table.c[key] == bindparam(f"counter_{key}") for key in keys))
        .values({column: table.c[column] + 1})
        .returning(table.c[column])
    )


def _creation(dialect_name: str, table: Table, column: str, keys: tuple[str, ...]) -> Insert:
    """``INSERT INTO table (keys…, column) VALUES (:counter_key…, 0) ON CONFLICT DO NOTHING``."""
    insert = pg_insert if dialect_name == "postgresql" else sqlite_insert
    values = {**{key: bindparam(f"counter_{key}") for key in keys}, column: 0}
    return insert(table).values(values).on_conflict_do_nothing()


_SERIAL_BUMP = _bump(_SERIALS, "last_serial", _SERIAL_KEYS)
_ITEM_BUMP = _bump(_ITEMS, "last_item", _ITEM_KEYS)


def serial_take_postgresql(source: FromClause) -> Insert:
    """PostgreSQL: take the next 发文顺序号 once per row of ``source`` (登记 gives one row, or none to
    take nothing), the counter created at 1 if absent — one statement, merged into the 登记 statement
    (storage.registration). Holds the counter's row lock until the transaction ends, like
    ``take_next``; concurrent first numbers of a (code, year) queue on the key (ON CONFLICT) and get 1, 2, …."""
    key = [bindparam(f"counter_{key}", type_=_SERIALS.c[key].type) for key in _SERIAL_KEYS]
    return (
        pg_insert(_SERIALS)
        .from_select([*_SERIAL_KEYS, "last_serial"], select(*key, literal(1)).select_from(source))
        .on_conflict_do_update(index_elements=list(_SERIAL_KEYS), set_={"last_serial": _SERIALS.c.last_serial + 1})
        .returning(_SERIALS.c.last_serial)
    )


def _dialect_name(executor: Session | Connection) -> str:
    return (executor.get_bind() if isinstance(executor, Session) else executor).dialect.name


def _take_next(executor: Session | Connection, bump: Update, table: Table, column: str, keys: dict[str, object]) -> int:
    """Increment ``column`` of the row at ``keys`` (created at 0 if absent) and return it."""
    parameters = {f"counter_{key}": value for key, value in keys.items()}
    value = executor.execute(bump, parameters).scalar()
    if value is None:
        executor.execute(_creation(_dialect_name(executor), table, column, tuple(keys)), parameters)
        value = executor.execute(bump, parameters).scalar_one()
    return value


def take_next(executor: Session | Connection, *, code: str, year: int) -> int:
    """The next 发文顺序号 for (code, year), locked until the transaction ends."""
    return _take_next(executor, _SERIAL_BUMP, _SERIALS, "last_serial", {"code": code, "year": year})


def take_next_item(executor: Session | Connection, *, fonds: str, year: int, retention: str) -> int:
    """The next 件号 within (全宗号, 年度, 保管期限), locked until the transaction ends."""
    keys = {"fonds": fonds, "year": year, "retention": retention}
    return _take_next(executor, _ITEM_BUMP, _ITEMS, "last_item", keys)


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
