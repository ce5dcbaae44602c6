"""审计链锚点 on SQLite and PostgreSQL with the local write-once archive: a chain rewritten from some
entry on, every hash and the head sealed anew, verifies by itself — the anchors catch it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import text

from models.errors import ArchiveLocked, VerificationFailed
from storage import audit_anchors, audit_log
from storage.archive.base import Lock
from storage.archive.local import LocalArchiveStore
from tests.storage.helpers import rewrite_chain

NOW = dt.datetime(2026, 12, 4, 15, 50, tzinfo=dt.UTC)


def _fill(db, count: int, start: int = 0) -> None:
    with db.transaction() as session:
        for n in range(start, start + count):
            audit_log.append(session, actor="李红梅", action="ack", document_id=1, detail={"n": n})


@pytest.fixture
def store(tmp_path) -> LocalArchiveStore:
    return LocalArchiveStore(tmp_path / "archive")


def _check(db, store):
    with db.transaction() as session:
        return audit_anchors.check_anchors(session, store)


def test_an_empty_chain_is_not_anchored_and_passes(db, store):
    assert audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW) is None
    assert store.versions(audit_anchors.PREFIX) == []
    check = _check(db, store)
    assert (check.ok, check.name) == (True, "审计链锚点")
    assert "尚无锚点" in check.detail


def test_the_head_is_put_under_legal_hold_once(db, store):
    _fill(db, 3)
    first = audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW)
    again = audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW + dt.timedelta(days=1))
    assert first == again and first.last_id == 3
    with db.transaction() as session:
        assert first.last_hash == audit_log.trail(session, document_id=1)[-1].hash
    [version] = store.versions(audit_anchors.PREFIX)
    assert version.key == "audit-anchors/000000000003.json"
    assert version.lock.legal_hold and version.lock.mode == "COMPLIANCE"
    assert json.loads(store.get(version.key))["last_hash"] == first.last_hash
    with pytest.raises(ArchiveLocked):
        store.delete(version.key, version.version_id)


def test_anchors_of_a_growing_chain_all_pass(db, store):
    for day in range(3):
        _fill(db, 2, start=2 * day)
        audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW + dt.timedelta(days=day))
    check = _check(db, store)
    assert check.ok, check.detail
    assert check.detail.startswith("3 个锚点均与审计链一致") and "#6" in check.detail


def test_a_rewritten_chain_verifies_by_itself_but_not_against_its_anchor(db, store):
    _fill(db, 4)
    audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW)

    def backdate_the_third(rows):
        rows[2]["at"] = "2022-05-01T08:00:00.000000+00:00"
        return rows

    rewrite_chain(db, backdate_the_third)
    with db.transaction() as session:
        assert audit_log.verify(session).ok  # the chain alone cannot tell
    check = _check(db, store)
    assert not check.ok
    assert "审计记录 #4" in check.detail and "审计链被改写" in check.detail


def test_entries_removed_and_the_chain_renumbered_are_caught(db, store):
    _fill(db, 4)
    audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW)
    rewrite_chain(db, lambda rows: rows[:1] + rows[2:])
    check = _check(db, store)
    assert not check.ok
    assert "#4" in check.detail and "链被截断" in check.detail


def test_a_broken_chain_is_not_anchored(db, store):
    _fill(db, 3)
    with db.transaction() as session:
        session.execute(text("UPDATE audit_events SET actor = '他人' WHERE id = 2"))
    with pytest.raises(VerificationFailed) as refused:
        audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW)
    assert refused.value.field == "audit_log" and "#2" in refused.value.message
    assert store.versions(audit_anchors.PREFIX) == []


def test_a_second_version_or_an_unreadable_anchor_fails_the_check(db, store):
    _fill(db, 2)
    anchored = audit_anchors.anchor(db, store, lock_mode="COMPLIANCE", now=NOW)
    lock = Lock("COMPLIANCE", NOW + dt.timedelta(days=1))
    store.put(anchored.key, anchored.content(), metadata={}, lock=lock)
    store.put(audit_anchors.PREFIX + "000000000001.json", b"not json", metadata={}, lock=lock)
    check = _check(db, store)
    assert not check.ok
    assert f"锚点 {anchored.key} 有 2 个版本" in check.detail
    assert "000000000001.json 无法读取" in check.detail
