"""登记 on PostgreSQL: the read, then one statement that is its own transaction (storage.registration).

- a registration is two statements on a pooled autocommit connection, with no pre-ping;
- the statement registers only the row that was read: a content changed, or a registration by
  someone else, between the read and the statement takes no number there, and the locked path
  then refuses (audited) or gives the number taken;
- a connection lost since it was pooled is replaced; a statement whose reply was lost is not
  registered twice (登记 is tried once more, and is idempotent).
"""

from __future__ import annotations

import json

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import select

from models.errors import ServiceUnavailable, TransitionError, VerificationFailed
from models.tables import AuditEvent, ReferenceCounter
from storage import audit_log, registration
from tests.storage.helpers import load, signed_document

REF = "汴打假〔2022〕3号"  # the directory's counter is at 2


@pytest.fixture
def loaded(postgres_db, kaifeng):
    load(postgres_db, kaifeng)
    return postgres_db


def sql(db, statement: str, **params) -> None:
    with db.transaction() as session:
        session.execute(text(statement), params)


def state(db, document_id: int) -> tuple:
    """The document's state and number, the 汴打假〔2022〕 counter, its 登记 audit entries, whether the chain verifies."""
    with db.transaction() as session:
        document = tuple(
            session.execute(text("SELECT state, ref FROM documents WHERE id = :id"), {"id": document_id}).one()
        )
        counter = session.get(ReferenceCounter, ("汴打假", 2022)).last_serial
        query = select(AuditEvent).where(AuditEvent.document_id == document_id, AuditEvent.action.like("register%"))
        entries = [(event.action, json.loads(event.detail)) for event in session.exec(query.order_by(AuditEvent.id))]
        chain = audit_log.verify(session)
    return document, counter, entries, chain.ok


@pytest.fixture
def after_the_read(monkeypatch):
    """Plan a change someone else makes between 登记's read and its statement (once)."""
    planned = []
    sealed = registration._Registration.sealed_by_database

    def interleaved(self, actor):
        while planned:
            planned.pop()()
        return sealed(self, actor)

    monkeypatch.setattr(registration._Registration, "sealed_by_database", interleaved)
    return planned.append


def test_a_registration_is_two_statements_on_an_autocommit_connection_without_pre_ping(
    loaded, notice, pins, monkeypatch
):
    earlier, document = (signed_document(loaded, notice, pins) for _ in range(2))
    registration.register(loaded, document_id=earlier.id)  # (the first connection also reads the server's types)
    statements, pings = [], []
    execute = psycopg.Cursor.execute

    def spy(cursor, query, *args, **kwargs):
        statements.append((query.split()[0], cursor.connection.autocommit))
        return execute(cursor, query, *args, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(psycopg.Cursor, "execute", spy)
        patched.setattr(type(loaded.engine.dialect), "do_ping", lambda _dialect, _connection: pings.append(1) or True)
        assert str(registration.register(loaded, document_id=document.id)) == "汴打假〔2022〕4号"
    assert statements == [("SELECT", True), ("WITH", True)]
    assert pings == []
    (stored, counter, entries, chain) = state(loaded, document.id)
    assert (stored[0], counter, [action for action, _ in entries], chain) == ("registered", 4, ["register"], True)


CHANGES = {  # made after the read: (SQL, the refusal, its message, the state left)
    "正文": ("UPDATE documents SET body = body || '（改）' WHERE id = :id", VerificationFailed, "拒绝登记", "signed"),
    "状态": ("UPDATE documents SET state = 'withdrawn' WHERE id = :id", TransitionError, "已撤销", "withdrawn"),
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES)
def test_a_document_changed_after_the_read_is_refused_as_before_and_takes_no_number(
    loaded, notice, pins, after_the_read, change
):
    """As on the locked path: a changed content is refused and audited (register_refused, field content);
    a changed state is refused by the lifecycle table (TransitionError), which ``register`` does not audit."""
    edit, refusal, message, left = change
    document = signed_document(loaded, notice, pins)
    after_the_read(lambda: sql(loaded, edit, id=document.id))
    with pytest.raises(refusal, match=message):
        registration.register(loaded, document_id=document.id)
    (stored, counter, entries, chain) = state(loaded, document.id)
    assert (stored, counter, chain) == ((left, None), 2, True)
    audited = [(action, detail.get("field")) for action, detail in entries]
    assert audited == ([("register_refused", "content")] if refusal is VerificationFailed else [])


def test_a_document_registered_by_someone_else_after_the_read_keeps_that_number(loaded, notice, pins, after_the_read):
    document = signed_document(loaded, notice, pins)
    after_the_read(lambda: registration._register_plain(loaded, document.id, "另一登记人"))
    assert str(registration.register(loaded, document_id=document.id)) == REF
    (stored, counter, entries, chain) = state(loaded, document.id)
    assert (stored, counter, len(entries), chain) == (("registered", REF), 3, 1, True)


def test_a_connection_lost_since_it_was_pooled_is_replaced(loaded, notice, pins):
    first, second = (signed_document(loaded, notice, pins) for _ in range(2))
    registration.register(loaded, document_id=first.id)
    with loaded.autocommit_connection() as pooled:  # the one the registration left in the pool
        pid = pooled.driver_connection.info.backend_pid
    sql(loaded, "SELECT pg_terminate_backend(:pid)", pid=pid)
    assert str(registration.register(loaded, document_id=second.id)) == "汴打假〔2022〕4号"
    with loaded.autocommit_connection() as pooled:
        assert pooled.driver_connection.info.backend_pid != pid
    assert state(loaded, second.id)[1:] == (4, state(loaded, second.id)[2], True)


def test_a_statement_whose_reply_was_lost_is_not_registered_twice(loaded, notice, pins, monkeypatch):
    """The statement committed, but the connection broke before its answer: the second try reads the number."""
    document = signed_document(loaded, notice, pins)
    once = registration._register_in_one_statement
    tries = []

    def reply_lost(*args):
        tries.append(once(*args))
        if len(tries) == 1:
            raise ServiceUnavailable("数据库无法连接或连接中断（测试），请在数据库恢复后重试", "database")
        return tries[-1]

    monkeypatch.setattr(registration, "_register_in_one_statement", reply_lost)
    assert str(registration.register(loaded, document_id=document.id)) == REF
    assert [str(number) for number in tries] == [REF, REF]
    (stored, counter, entries, chain) = state(loaded, document.id)
    assert (stored, counter, len(entries), chain) == (("registered", REF), 3, 1, True)
