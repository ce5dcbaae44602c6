"""登记: the 发文字号 taken in the same transaction as the document's state and its audit entry.

``register`` is idempotent per document (registering a registered document returns its
number) and refuses a content that is not the one signed. The year is that of the
成文日期. The commentary below says how the statement holds its locks.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, Integer, String, Text, Update, bindparam, cast, func, insert, literal_column, update
from sqlmodel import select

from models.audit_chain import ChainEntry
from models.errors import NotFound, ServiceUnavailable, VerificationFailed
from models.lifecycle import Action, State, next_state
from models.refno import ReferenceNumber
from models.signed_content import CONTENT_FIELDS, check_unchanged, content_of_row
from models.tables import AuditEvent, AuditHead, Document, utcnow
from storage import audit_log, counters
from storage.database import Database
from storage.signing import signed_sha256
from storage.transitions import SYSTEM, route_of, today

# --- 登记 ----------------------------------------------------------------------------
#
# ``register`` is the hot path that bench/refno.py measures. Under load its rate is set by
# how long each registration holds the two single-row locks every registration needs: the
# counter of (机关代字, 年份) and the audit chain head, from taking the number to COMMIT.
#
# On PostgreSQL through psycopg (gongwen's driver) ``_register_postgresql`` holds them for
# one statement that is its own transaction (autocommit: the server commits it as it ends), so
# no round trip to the client falls while they are held. A registration is two round trips,
# the read and that statement, on a pooled connection taken without a pre-ping
# (Database.autocommit_connection):
#
#   SELECT …, (SELECT content_sha256 FROM decisions …), <fingerprint> FROM documents WHERE id = :doc_id
#       -- no lock: the content, the digest its 签发 recorded, and the fingerprint of both
#       -- (Python: the rules, the content against that digest, the texts of the new rows with holes)
#   WITH unchanged AS (SELECT id FROM documents WHERE id = :doc_id AND <fingerprint> = :doc_fingerprint
#                      FOR UPDATE),                                       -- the document's lock
#        number AS (INSERT INTO reference_counters … SELECT :counter_code, :counter_year, 1 FROM unchanged
#                   ON CONFLICT (code, year) DO UPDATE SET last_serial = last_serial + 1
#                   RETURNING last_serial),                               -- the counter lock
#        head AS (SELECT number.last_serial AS serial, last_id + 1 AS id, last_hash AS prev_hash
#                 FROM number JOIN audit_head ON audit_head.id = 1
#                 FOR UPDATE OF audit_head),                              -- the audit head lock
#        entry AS (SELECT head.*, clock_timestamp() AS now FROM head),   -- the time, under both
#        sealed AS (SELECT entry.*, <at>, <detail>, encode(sha256(convert_to(<sealed>, 'UTF8')), 'hex') AS hash
#                   FROM entry),
#        registration AS (UPDATE documents SET state = :doc_state, ref = <ref>, … FROM sealed WHERE id = :doc_id),
#        event AS (INSERT INTO audit_events … SELECT sealed.id, sealed.at, :event_actor, … FROM sealed)
#   UPDATE audit_head SET last_id = sealed.id, last_hash = sealed.hash FROM sealed WHERE id = 1
#   RETURNING sealed.serial
#
# The fingerprint (``_FINGERPRINT``) is the SHA-256 of everything the read gives, as the server
# writes it: the statement locks the document only if it is still exactly the row Python read
# and checked, with the same 签发 digest — else ``unchanged`` is empty, so is every step after
# it (no number taken, nothing written), and ``_register_plain`` decides under the document's
# lock (registered by someone else meanwhile: its number; changed: refused). The locks are
# still taken in the order below, each step reading the one before. The content cannot be
# checked inside the statement: its digest is of canonical JSON (models.signed_content) that
# only Python writes; so the read stays a round trip of its own.
#
# The audit entry's hash is thus taken by the database, of exactly the text models.audit_chain
# hashes: Python writes that text (storage.audit_log.sealed_text of the entry built as for any
# writer) with a stand-in for each value only the database knows — the serial (in the 发文字号
# of the detail), the time, the id, the previous hash — and cuts it at the stand-ins; the
# statement joins the pieces with the values (``_spliced``). Those values are digits, hex
# digits and a timestamp, characters that canonical JSON writes as they are, as it does the
# stand-ins, so the joined text is the one Python would have hashed (tests/storage check
# every chain with verify_chain). Should a stand-in occur in a text by chance (an actor named
# like one), that registration takes ``_register_plain`` instead.
#
# Why this form (the figures of bench/refno.py that chose it): docs/registration.md.
#
# Every other database (SQLite, whose DML cannot stand inside WITH) and driver takes
# ``_register_plain``: the same steps one statement at a time through SQLAlchemy Core, the
# entry hashed in Python; on SQLite ``BEGIN IMMEDIATE`` serialises writers anyway. Both take
# the locks in the same order — document, counter, audit head — which is also the order of
# the other writers that take a counter and the head (save_directory: counter, then head);
# taking the head first would let one of those deadlock with 登记. Both share the rules of
# ``_Registration``.
#
# Both also check that the content is the one signed (models.signed_content.check_unchanged)
# from the row read (``_register_plain``: under the document's lock; PostgreSQL: the row the
# statement finds unchanged): its content columns and, in the same statement, the SHA-256 its
# 签发 decision recorded (storage.signing.signed_sha256). The hashing happens before the counter
# and the audit head are locked; a content that differs is refused before any number is taken
# (VerificationFailed, audited as ``register_refused`` in a transaction of its own once this
# one is rolled back).
#
# A lost connection on PostgreSQL (a pooled one the server dropped, a restart) is tried once
# more on a fresh connection: safe because 登记 is idempotent — a statement whose answer was
# lost either committed (the second read finds the number) or did nothing.

_DOCUMENTS = Document.__table__
_REGISTRATION_INPUTS = ("state", "ref", "ref_code", "ref_year", "ref_serial", "lead_code", "date", "signed_on")
_ROUTE = ("review", "cosign", "sign")  # for next_state
#: The rest of the signed content (models.signed_content: every 要素 and the route), checked against the 签发's digest.
_CONTENT = tuple(name for name in CONTENT_FIELDS if name not in _REGISTRATION_INPUTS + _ROUTE)
#: Everything 登记 reads of the document: the columns, and the SHA-256 its 签发 recorded.
_READ = (*(_DOCUMENTS.c[name] for name in _REGISTRATION_INPUTS + _ROUTE + _CONTENT), signed_sha256(_DOCUMENTS.c.id))
_DOCUMENT_FOR_REGISTRATION = (
    select(*_READ[:-1], _READ[-1].label("signed_sha256"))
    .where(_DOCUMENTS.c.id == bindparam("doc_id"))
    .with_for_update()
)
#: Parameters doc_id, and doc_<column> for each column set (SQLAlchemy reserves the bare column names).
_RECORD_REGISTRATION = (
    update(_DOCUMENTS)
    .where(_DOCUMENTS.c.id == bindparam("doc_id"))
    .values(
        {
            name: bindparam(f"doc_{name}")
            for name in ("state", "ref", "ref_code", "ref_year", "ref_serial", "registered_at", "updated_at")
        }
    )
)

# PostgreSQL only: the read and the statement shown above.
_HEAD, _EVENTS = AuditHead.__table__, AuditEvent.__table__
#: SHA-256 of what ``_READ`` gives, as the server writes it (a row's text: every value exact, NULL apart).
_FINGERPRINT = func.encode(
    func.sha256(func.convert_to(cast(func.row(*_READ), Text), literal_column("'UTF8'"))), literal_column("'hex'")
)
_DOCUMENT_READ = select(*_READ[:-1], _READ[-1].label("signed_sha256"), _FINGERPRINT.label("fingerprint")).where(
    _DOCUMENTS.c.id == bindparam("doc_id")
)
#: The values only the database knows, each with the stand-in Python writes in its place.
_STAND_INS = {"serial": 7_777_777_771, "at": "⟨at⟩", "id": 8_888_888_881, "prev_hash": "⟨prev_hash⟩"}
#: The texts the statement completes, with the holes in each, in order.
_HOLES = {"ref": ("serial",), "detail": ("serial",), "sealed": ("at", "serial", "id", "prev_hash")}
_AT = '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\''  # the form of storage.audit_log.next_entry's time


def _spliced(text: str, values: dict[str, Any]) -> Any:
    """SQL for ``text``: its pieces (parameters ``<text>_0`` …) joined with the values of its holes."""
    joined = bindparam(f"{text}_0", type_=String)
    for i, hole in enumerate(_HOLES[text], start=1):
        joined = joined + cast(values[hole], String) + bindparam(f"{text}_{i}", type_=String)
    return joined


def _cut(text: str, written: str) -> dict[str, str] | None:
    """The parameters of ``_spliced(text, …)``: ``written`` cut at its stand-ins; None unless each occurs once, in order."""
    stand_ins = [str(_STAND_INS[hole]) for hole in _HOLES[text]]
    if any(written.count(stand_in) != 1 for stand_in in stand_ins):
        return None
    pieces = []
    for stand_in in stand_ins:
        before, found, written = written.partition(stand_in)
        if not found:
            return None
        pieces.append(before)
    return {f"{text}_{i}": piece for i, piece in enumerate([*pieces, written])}


def _register_statement() -> Update:
    """The statement shown above; parameters from ``_Registration.sealed_by_database`` and doc_fingerprint."""
    unchanged = (
        select(_DOCUMENTS.c.id)
        .where(_DOCUMENTS.c.id == bindparam("doc_id", type_=Integer), _FINGERPRINT == bindparam("doc_fingerprint"))
        .with_for_update()
        .cte("unchanged")
    )
    number = counters.serial_take_postgresql(unchanged).cte("number")
    head = (
        select(
            number.c.last_serial.label("serial"),
            (_HEAD.c.last_id + 1).label("id"),
            _HEAD.c.last_hash.label("prev_hash"),
        )
        .select_from(number)
        .join(_HEAD, _HEAD.c.id == 1)
        .with_for_update(of=_HEAD)
        .cte("head")
    )
    entry = select(head, func.clock_timestamp().label("now")).cte("entry")
    at = func.to_char(func.timezone(literal_column("'UTC'"), entry.c.now), literal_column(_AT))
    holes = {"serial": entry.c.serial, "at": at, "id": entry.c.id, "prev_hash": entry.c.prev_hash}
    text = _spliced("sealed", holes)
    sha256 = func.encode(func.sha256(func.convert_to(text, literal_column("'UTF8'"))), literal_column("'hex'"))
    sealed = select(entry, at.label("at"), _spliced("detail", holes).label("detail"), sha256.label("hash")).cte(
        "sealed"
    )
    registration = (
        update(_DOCUMENTS)
        .where(_DOCUMENTS.c.id == bindparam("doc_id", type_=Integer))
        .values(
            state=bindparam("doc_state", type_=String),
            ref=_spliced("ref", {"serial": sealed.c.serial}),
            ref_code=bindparam("doc_ref_code", type_=String),
            ref_year=bindparam("doc_ref_year", type_=Integer),
            ref_serial=sealed.c.serial,
            registered_at=sealed.c.now,
            updated_at=sealed.c.now,
        )
        .cte("registration")
    )
    columns = ("id", "at", "actor", "action", "document_id", "detail", "prev_hash", "hash")
    event = insert(_EVENTS).from_select(
        columns,
        select(
            sealed.c.id,
            sealed.c.at,
            bindparam("event_actor", type_=String),
            bindparam("event_action", type_=String),
            bindparam("doc_id", type_=Integer),
            sealed.c.detail,
            sealed.c.prev_hash,
            sealed.c.hash,
        ),
    )
    return (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(last_id=sealed.c.id, last_hash=sealed.c.hash)
        .returning(sealed.c.serial)
        .add_cte(registration, event.cte("event"))
    )


def register(db: Database, *, document_id: int, actor: str = SYSTEM) -> ReferenceNumber:
    """登记: assign the 发文字号 in the same transaction; idempotent per document.

    The year is that of the 成文日期 (the spec's date, else the 签发 day, else today). A document
    whose content is not the one its 签发人 signed is refused — VerificationFailed naming the 公文编号,
    audited as ``register_refused`` — and no number is taken; the 登记 entry records the content's
    digests (models.signed_content.check_unchanged).
    """
    dialect = db.engine.dialect
    refused = {"actor": actor, "action": "register_refused", "document_id": document_id}
    with audit_log.refusals_audited(db, **refused, refusals=(VerificationFailed,)):
        if dialect.name == "postgresql" and dialect.driver == "psycopg":
            return _register_postgresql(db, document_id, actor)
        return _register_plain(db, document_id, actor)


@dataclass(frozen=True)
class _Registration:
    """One document about to be registered: the rules, and the rows it writes."""

    document_id: int
    state: str
    target: State
    code: str
    year: int
    content: dict[str, Any]  # what the entry records of the content registered (check_unchanged)

    @classmethod
    def of(cls, document_id: int, document: Any) -> _Registration | ReferenceNumber:
        """From the locked row: its number if already registered, else what registering does.

        ``document`` is the row of ``_DOCUMENT_FOR_REGISTRATION`` (SQLAlchemy's or psycopg's
        named tuple), or None: NotFound. TransitionError (the lifecycle table) if the
        document may not be registered; VerificationFailed if its content is not the one signed.
        """
        if document is None:
            raise NotFound(f"没有编号为 {document_id} 的公文", "DOC")
        if document.ref is not None:
            return ReferenceNumber(document.ref_code, document.ref_year, document.ref_serial)
        target = next_state(State(document.state), Action.REGISTER, route_of(document))
        signed = document.signed_sha256
        content = check_unchanged(content_of_row(document), signed, step="登记", document_id=document_id)
        year = (document.date or document.signed_on or today()).year
        return cls(document_id, document.state, target, document.lead_code, year, content)

    def number(self, serial: int) -> ReferenceNumber:
        return ReferenceNumber(self.code, self.year, serial)

    def entry(self, number: ReferenceNumber, actor: str, **head: Any) -> ChainEntry:
        """The audit entry; ``head``: where in the chain (``audit_log.next_entry``'s last_id, last_hash, at)."""
        detail = {"from": self.state, "to": self.target.value, "ref": str(number), **self.content}
        action = Action.REGISTER.value
        return audit_log.next_entry(**head, actor=actor, action=action, document_id=self.document_id, detail=detail)

    def writes(self, serial: int, last_id: int, last_hash: str, actor: str) -> tuple[ReferenceNumber, dict, dict]:
        """The number, the parameters of ``_RECORD_REGISTRATION`` and those of the audit entry."""
        number = self.number(serial)
        entry = self.entry(number, actor, last_id=last_id, last_hash=last_hash)
        now = utcnow()
        document = {
            "doc_id": self.document_id,
            "doc_state": self.target.value,
            "doc_ref": str(number),
            "doc_ref_code": number.code,
            "doc_ref_year": number.year,
            "doc_ref_serial": number.serial,
            "doc_registered_at": now,
            "doc_updated_at": now,
        }
        return number, document, audit_log.parameters_of(entry)

    def sealed_by_database(self, actor: str) -> dict | None:
        """The parameters of ``_register_statement()``; None if a stand-in occurs in a text by chance."""
        number = self.number(_STAND_INS["serial"])
        stand_ins = {"last_id": _STAND_INS["id"] - 1, "last_hash": _STAND_INS["prev_hash"], "at": _STAND_INS["at"]}
        entry = self.entry(number, actor, **stand_ins)  # (its own hash, of the stand-ins, goes unused)
        texts = {"ref": str(number), "detail": entry.detail, "sealed": audit_log.sealed_text(entry)}
        pieces = [_cut(text, written) for text, written in texts.items()]
        if None in pieces:
            return None
        return {
            "counter_code": self.code,
            "counter_year": self.year,
            "doc_id": self.document_id,
            "doc_state": self.target.value,
            "doc_ref_code": self.code,
            "doc_ref_year": self.year,
            "event_actor": actor,
            "event_action": Action.REGISTER.value,
        } | {name: piece for cut in pieces for name, piece in cut.items()}


def _register_plain(db: Database, document_id: int, actor: str) -> ReferenceNumber:
    """Any database and driver: one statement at a time, through SQLAlchemy Core."""
    with db.engine.begin() as connection:
        document = connection.execute(_DOCUMENT_FOR_REGISTRATION, {"doc_id": document_id}).one_or_none()
        registration = _Registration.of(document_id, document)
        if isinstance(registration, ReferenceNumber):
            return registration
        serial = counters.take_next(connection, code=registration.code, year=registration.year)
        last_id, last_hash = connection.execute(audit_log.HEAD_FOR_UPDATE).one()
        number, document_row, event = registration.writes(serial, last_id, last_hash, actor)
        connection.execute(_RECORD_REGISTRATION, document_row)
        connection.execute(audit_log.INSERT_EVENT, event)
        connection.execute(audit_log.ADVANCE_HEAD, event)
        return number


def _register_postgresql(db: Database, document_id: int, actor: str) -> ReferenceNumber:
    """PostgreSQL through psycopg: the read, then the one statement that registers (its own transaction).

    A connection found lost (the server restarted since it was pooled, or went away) is
    ServiceUnavailable, and 登记 is tried once more on a fresh connection: safe, since it is
    idempotent — whether or not the lost statement committed, the second read finds the document
    registered with its number or not registered and no number taken. A document whose row
    changed between the read and the statement (registered meanwhile by someone else, its
    content or state changed), and an entry whose texts hold a stand-in by chance, take
    ``_register_plain``, which decides under the document's lock.
    """
    sql = _postgresql_statements(db.engine.dialect)  # (compiled once the dialect knows the server)
    try:
        registered = _register_in_one_statement(db, sql, document_id, actor)
    except ServiceUnavailable:
        registered = _register_in_one_statement(db, sql, document_id, actor)
    return registered or _register_plain(db, document_id, actor)


def _register_in_one_statement(
    db: Database, sql: _PostgresqlStatements, document_id: int, actor: str
) -> ReferenceNumber | None:
    """The read and, unless the document is registered already, the statement; None: ``_register_plain`` decides.

    Runs on a psycopg connection in autocommit mode (Database.autocommit_connection: no pre-ping),
    without SQLAlchemy's execution layer (its events included; errors are psycopg's own, but a lost
    server is ServiceUnavailable). From the fifth use on a connection psycopg runs each statement
    prepared on the server.
    """
    from psycopg.rows import namedtuple_row  # loaded already by the engine's dialect; not for SQLite

    with db.autocommit_connection() as pooled, pooled.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
        document = cursor.execute(*sql.document({"doc_id": document_id})).fetchone()
        registration = _Registration.of(document_id, document)
        if isinstance(registration, ReferenceNumber):
            return registration
        parameters = registration.sealed_by_database(actor)
        if parameters is None:
            return None
        registered = cursor.execute(*sql.register(parameters | {"doc_fingerprint": document.fingerprint})).fetchone()
        return registration.number(registered.serial) if registered else None


@dataclass(frozen=True)
class _Compiled:
    """A Core statement compiled for psycopg; called with parameters, gives ``cursor.execute``'s arguments."""

    sql: str
    constants: dict  # the values of the binds the statement fixes itself (e.g. audit_head.id = 1)

    @classmethod
    def of(cls, statement, dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        return cls(str(compiled), {name: v for name, v in compiled.params.items() if v is not None})

    def __call__(self, parameters: dict) -> tuple[str, dict]:
        return self.sql, {**self.constants, **parameters}


@dataclass(frozen=True)
class _PostgresqlStatements:
    document: _Compiled
    register: _Compiled


@functools.cache
def _postgresql_statements(dialect: Dialect) -> _PostgresqlStatements:
    """The statements of ``_register_postgresql``, compiled once per engine."""
    return _PostgresqlStatements(
        document=_Compiled.of(_DOCUMENT_READ, dialect),
        register=_Compiled.of(_register_statement(), dialect),
    )
