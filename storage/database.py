"""The database: an engine for SQLite (embedded default) or PostgreSQL.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with
``BEGIN IMMEDIATE`` so that writers queue instead of failing: that is how the
counter row is locked there. On PostgreSQL rows are locked with
``SELECT … FOR UPDATE`` (``with_for_update``) inside ordinary transactions.

A PostgreSQL server that cannot be reached or drops the connection (stopped,
restarted, crashed) is an outage like an archive or mail server that is down:
the error becomes ServiceUnavailable (retried by the flows, exit 4 for the CLI),
and the pool checks each connection before use, so the same process works again
once the server is back. What the failed transaction did is rolled back.
``autocommit_connection`` is the exception: for statements that are a transaction of their own
(登记's), it skips the check, and its caller sends the statement again on a fresh connection when
the connection turns out lost (safe only for a statement that may run twice: storage.registration).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import PoolProxiedConnection
from sqlmodel import Session

from models.errors import ServiceUnavailable


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the locking behaviour gongwen relies on."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, json_serializer=_json_text
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, pool_pre_ping=True, json_serializer=_json_text)
    event.listen(engine, "handle_error", _server_unreachable)
    return engine


def _server_unreachable(context: ExceptionContext) -> ServiceUnavailable | None:
    """A connection that cannot be made or was lost: ServiceUnavailable (the pool discards the
    connection as before); a pre-ping's failure is left to the pool, which then reconnects."""
    lost = context.is_disconnect or (
        context.connection is None and isinstance(context.sqlalchemy_exception, OperationalError)
    )
    if context.is_pre_ping or not lost:
        return None
    return _unavailable(context.original_exception)


def _unavailable(error: BaseException) -> ServiceUnavailable:
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    return ServiceUnavailable(f"数据库无法连接或连接中断（{reason}），请在数据库恢复后重试", "database")


def _json_text(value: object) -> str:
    """JSON columns keep Chinese as characters, so they can be searched."""
    return json.dumps(value, ensure_ascii=False)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """An engine and the transactions made on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, class_=Session, expire_on_commit=False)
        # autocommit_connection's pool (a server's only; it connects on first use)
        self._autocommit = None if self.is_sqlite else _autocommit_engine(engine)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def autocommit_connection(self) -> Iterator[PoolProxiedConnection]:
        """A pooled driver connection in autocommit mode (each statement its own transaction), checked
        out without the pool's check, for code that speaks the driver itself (登记's statement), back to
        the pool at the end. A server that cannot be reached or drops the connection is ServiceUnavailable
        here too: the connection and those pooled beside it are discarded (the server they were made
        to has gone), so the next checkout connects anew. Not for SQLite."""
        engine = self._autocommit
        if engine is None:
            raise TypeError("autocommit_connection: a database server's only, not SQLite")
        pooled = None
        try:
            pooled = engine.raw_connection()
            yield pooled
        except (DBAPIError, engine.dialect.loaded_dbapi.Error) as error:
            if not self._lost(error, pooled):
                raise
            if pooled is not None:
                pooled.invalidate(error)
            engine.dispose()
            raise _unavailable(error) from error
        finally:
            if pooled is not None:
                pooled.close()

    def _lost(self, error: BaseException, pooled: PoolProxiedConnection | None) -> bool:
        if pooled is None:  # checking out failed: the server cannot be reached
            return isinstance(error, (DBAPIError, self.engine.dialect.loaded_dbapi.OperationalError))
        original = error.orig if isinstance(error, DBAPIError) else error
        return self.engine.dialect.is_disconnect(original, pooled.dbapi_connection, None)

    def dispose(self) -> None:
        self.engine.dispose()
        if self._autocommit is not None:
            self._autocommit.dispose()


def _autocommit_engine(engine: Engine) -> Engine:
    """A second pool on ``engine``'s server: connections in autocommit mode, no pre-ping, nothing to
    reset when one comes back (no transaction outlives its statement)."""
    return create_engine(engine.url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_reset_on_return=None)
