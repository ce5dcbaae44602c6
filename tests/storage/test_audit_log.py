"""The hash-chained 审计日志 on SQLite and PostgreSQL: tampering is found and named."""

from __future__ import annotations

from sqlalchemy import text

from storage import audit_log


def _fill(db, count: int = 5) -> None:
    with db.transaction() as session:
        for i in range(count):
            audit_log.append(session, actor="测试", action="note", document_id=i, detail={"n": i, "text": "开封"})


def test_a_fresh_chain_verifies(db):
    _fill(db)
    with db.transaction() as session:
        report = audit_log.verify(session)
    assert (report.ok, report.checked) == (True, 5)


def test_entries_get_consecutive_ids_and_link_to_the_previous_hash(db):
    _fill(db, 3)
    with db.transaction() as session:
        events = audit_log.trail(session, document_id=1) + audit_log.trail(session, document_id=2)
    assert [e.id for e in events] == [2, 3]
    assert events[1].prev_hash == events[0].hash


def test_changing_one_row_is_detected_and_named(db):
    _fill(db)
    with db.transaction() as session:
        session.execute(
            text("UPDATE audit_events SET detail = :detail WHERE id = 3"), {"detail": '{"n":2,"text":"改"}'}
        )
    with db.transaction() as session:
        report = audit_log.verify(session)
    assert (report.ok, report.broken_id) == (False, 3)
    assert "#3" in report.reason


def test_deleting_a_middle_row_breaks_the_next_one(db):
    _fill(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = 2"))
    with db.transaction() as session:
        report = audit_log.verify(session)
    assert (report.ok, report.broken_id) == (False, 3)


def test_deleting_the_last_row_is_caught_by_the_head(db):
    _fill(db)
    with db.transaction() as session:
        session.execute(text("DELETE FROM audit_events WHERE id = 5"))
    with db.transaction() as session:
        report = audit_log.verify(session)
    assert not report.ok
    assert "链头" in report.reason


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_link_after_it(db):
    _fill(db)
    from models.audit_chain import ChainEntry, entry_hash

    with db.transaction() as session:
        row = audit_log.trail(session, document_id=1)[0]
        forged = ChainEntry(row.id, row.at, "伪造者", row.action, row.document_id, row.detail, row.prev_hash)
        session.execute(
            text("UPDATE audit_events SET actor = :actor, hash = :hash WHERE id = :id"),
            {"actor": "伪造者", "hash": entry_hash(forged), "id": row.id},
        )
    with db.transaction() as session:
        report = audit_log.verify(session)
    assert (report.ok, report.broken_id) == (False, 3)
