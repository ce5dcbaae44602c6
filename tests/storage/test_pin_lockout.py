"""PIN 锁定 (storage.pin_lockout): MAX_WRONG_PINS wrong PINs within WINDOW lock a person for LOCK — even the
right PIN is refused then — on SQLite and PostgreSQL; the wrong PINs are counted although each action's
own transaction is rolled back, and the lock is audited."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlmodel import select

from actions import drafting
from models.errors import NotAllowed, RefusedDecision, WrongPin
from models.identity import Credentials
from models.lifecycle import State
from models.tables import AuditEvent, PinFailure
from models.vocabulary import OFFICE_ZONE
from storage.pin_lockout import LOCK, MAX_WRONG_PINS, WINDOW, check_unlocked, record_wrong_pin
from tests.storage.helpers import DRAFTER, audit_actions, load

WRONG = "000000"


@pytest.fixture
def draft_id(db, kaifeng, notice, pins) -> int:
    load(db, kaifeng)
    return drafting.draft(db, spec=notice, by=Credentials(DRAFTER, pins[DRAFTER])).id


def _refused_submit(db, document_id: int, pin: str, name: str = DRAFTER) -> NotAllowed:
    with pytest.raises(NotAllowed) as refused:
        drafting.submit(db, document_id=document_id, by=Credentials(name, pin))
    return refused.value


def test_five_wrong_pins_lock_the_person_even_against_the_right_pin(db, draft_id, pins):
    for _ in range(MAX_WRONG_PINS):
        assert isinstance(_refused_submit(db, draft_id, WRONG), WrongPin)
    refusal = _refused_submit(db, draft_id, pins[DRAFTER])
    assert not isinstance(refusal, WrongPin) and refusal.field == "pin"
    assert f"「{DRAFTER}」连续 {MAX_WRONG_PINS} 次 PIN 或密码错误，已锁定至" in refusal.message
    actions = audit_actions(db)
    assert actions.count("submit_refused") == MAX_WRONG_PINS + 1
    assert actions.index("pin_locked") == actions.index("submit_refused") + MAX_WRONG_PINS  # after the 5th
    with db.transaction() as session:
        locked = session.exec(select(AuditEvent).where(AuditEvent.action == "pin_locked")).one()
        until = dt.datetime.fromisoformat(json.loads(locked.detail)["until"])
    assert locked.actor == DRAFTER
    assert refusal.message.endswith(f"{until.astimezone(OFFICE_ZONE):%H:%M}")


def test_four_wrong_pins_then_the_right_one_is_accepted(db, draft_id, pins):
    for _ in range(MAX_WRONG_PINS - 1):
        _refused_submit(db, draft_id, WRONG)
    assert drafting.submit(db, document_id=draft_id, by=Credentials(DRAFTER, pins[DRAFTER])) is State.IN_REVIEW
    assert "pin_locked" not in audit_actions(db)


def test_an_unknown_name_counts_against_nobody(db, draft_id):
    for _ in range(MAX_WRONG_PINS + 1):
        refusal = _refused_submit(db, draft_id, WRONG, name="不在目录中")
        assert isinstance(refusal, RefusedDecision) and refusal.field == "as"
    with db.transaction() as session:
        assert session.exec(select(PinFailure)).all() == []


def test_the_window_and_the_lock_run_from_the_given_times(db):
    start = dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC)
    second = dt.timedelta(seconds=1)
    with db.transaction() as session:
        for minute in range(MAX_WRONG_PINS - 1):
            assert record_wrong_pin(session, name="张三", now=start + dt.timedelta(minutes=minute)) is None
        # the first wrong PIN has left the window: still one short of a lock
        assert record_wrong_pin(session, name="张三", now=start + WINDOW + second) is None
        locked_at = start + WINDOW + 2 * second
        until = record_wrong_pin(session, name="张三", now=locked_at)
        assert until == locked_at + LOCK
        with pytest.raises(RefusedDecision, match="已锁定至"):
            check_unlocked(session, name="张三", now=until - second)
        check_unlocked(session, name="李四", now=until - second)  # a lock is one person's
        check_unlocked(session, name="张三", now=until)
        # the wrong PINs that started the lock do not count toward the next one
        assert record_wrong_pin(session, name="张三", now=until + second) is None
