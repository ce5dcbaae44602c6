"""Lifecycle transitions on SQLite and PostgreSQL: states, decisions, refusals, registration."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.directory import Directory
from models.errors import InputError, RefusedDecision, TransitionError
from models.lifecycle import State
from models.spec import Approval
from models.tables import Document
from models.vocabulary import Role
from storage import audit_log, documents, transitions
from storage.directory_store import load_directory
from tests.storage.helpers import DRAFTER, REVIEWER, SIGNER, audit_actions, load, signed_document


@pytest.fixture
def loaded(db, kaifeng):
    load(db, kaifeng)
    return db


def test_directory_round_trips_through_the_database(loaded, kaifeng):
    with loaded.transaction() as session:
        stored = load_directory(session)
    assert [a.name for a in stored.agencies] == [a.name for a in kaifeng.agencies]
    assert [p.model_dump() for p in stored.people] == [p.model_dump() for p in kaifeng.people]
    assert stored.seed_for("汴打假", 2022) == 2
    assert stored.retention_for("通知") == kaifeng.retention_for("通知")


def test_seed_notice_goes_from_draft_to_registered(loaded, notice, pins):
    document = signed_document(loaded, notice, pins)
    with loaded.transaction() as session:
        assert documents.get(session, document_id=document.id).state == State.SIGNED
    number = transitions.register(loaded, document_id=document.id)
    assert str(number) == "汴打假〔2022〕3号"
    with loaded.transaction() as session:
        stored = documents.get(session, document_id=document.id)
        assert (stored.state, stored.ref, stored.ref_serial) == ("registered", "汴打假〔2022〕3号", 3)
        assert documents.spec_of(stored).body == notice.body
        assert audit_log.verify(session).ok
    assert audit_actions(loaded, document.id) == ["draft", "submit", "approve", "approve", "register"]


def test_registering_twice_returns_the_same_number(loaded, notice, pins):
    document = signed_document(loaded, notice, pins)
    first = transitions.register(loaded, document_id=document.id)
    second = transitions.register(loaded, document_id=document.id)
    other = signed_document(loaded, notice, pins)
    assert first == second
    assert transitions.register(loaded, document_id=other.id).serial == first.serial + 1


def test_register_before_signing_is_refused(loaded, notice):
    document = transitions.draft(loaded, spec=notice, drafter=DRAFTER)
    with pytest.raises(TransitionError, match="草稿"):
        transitions.register(loaded, document_id=document.id)


def test_return_sends_back_to_draft_and_a_revision_goes_through_review_again(loaded, notice, pins):
    document = transitions.draft(loaded, spec=notice, drafter=DRAFTER)
    transitions.submit(loaded, document_id=document.id)
    outcome = transitions.decide(
        loaded, document_id=document.id, name=REVIEWER, pin=pins[REVIEWER], approve=False, opinion="请补充联系人"
    )
    assert outcome.state is State.DRAFT
    revised = notice.model_copy(update={"title": notice.title + "（修改稿）"})
    assert transitions.revise(loaded, document_id=document.id, spec=revised, author=DRAFTER).version == 2
    assert transitions.submit(loaded, document_id=document.id) is State.IN_REVIEW
    transitions.decide(loaded, document_id=document.id, name=REVIEWER, pin=pins[REVIEWER], approve=True)
    with loaded.transaction() as session:
        decisions = documents.decisions(session, document_id=document.id)
        history = documents.versions(session, document_id=document.id)
        stored = documents.get(session, document_id=document.id)
    assert [(d.round, d.approve, d.opinion) for d in decisions] == [(1, False, "请补充联系人"), (2, True, "")]
    assert [v.spec["title"] for v in history] == [notice.title, revised.title]
    assert (stored.state, stored.title) == ("awaiting_signature", revised.title)


def test_cosigners_decide_in_any_order(loaded, notice, pins, kaifeng):
    cosigner = next(p.name for p in kaifeng.people if "cosigner" in p.roles)
    spec = notice.model_copy(update={"approval": Approval(review=[REVIEWER, "张伟"], cosign=[cosigner], sign=SIGNER)})
    document = transitions.draft(loaded, spec=spec, drafter=DRAFTER)
    transitions.submit(loaded, document_id=document.id)
    first = transitions.decide(loaded, document_id=document.id, name="张伟", pin=pins["张伟"], approve=True)
    assert (first.state, first.pending) == (State.IN_REVIEW, (REVIEWER,))
    second = transitions.decide(loaded, document_id=document.id, name=REVIEWER, pin=pins[REVIEWER], approve=True)
    assert second.state is State.COSIGNING
    third = transitions.decide(loaded, document_id=document.id, name=cosigner, pin=pins[cosigner], approve=True)
    assert third.state is State.AWAITING_SIGNATURE


@pytest.mark.parametrize(
    ("name", "pin_of", "reason"),
    [
        ("无此人", None, "没有人员"),
        (SIGNER, SIGNER, "没有核稿权限"),
        ("张伟", "张伟", "不在本文的核稿人员中"),
        (REVIEWER, None, "PIN 不正确"),
    ],
)
def test_refused_decisions_are_audited_and_change_nothing(loaded, notice, pins, name, pin_of, reason):
    spec = notice.model_copy(update={"approval": Approval(review=[REVIEWER], sign=SIGNER)})
    document = transitions.draft(loaded, spec=spec, drafter=DRAFTER)
    transitions.submit(loaded, document_id=document.id)
    with pytest.raises(RefusedDecision, match=reason):
        transitions.decide(
            loaded, document_id=document.id, name=name, pin=pins[pin_of] if pin_of else "000000", approve=True
        )
    with loaded.transaction() as session:
        assert documents.get(session, document_id=document.id).state == State.IN_REVIEW
        assert documents.decisions(session, document_id=document.id) == []
        assert audit_log.verify(session).ok
    assert audit_actions(loaded, document.id)[-1] == "decision_refused"


def test_the_drafter_cannot_be_the_signer(db, notice, kaifeng):
    people = [
        p.model_copy(update={"roles": [*p.roles, Role.DRAFTER]}) if p.name == SIGNER else p for p in kaifeng.people
    ]
    load(db, Directory(kaifeng.agencies, people, kaifeng.groups, kaifeng.counters, kaifeng.retention))
    with pytest.raises(RefusedDecision, match="不能作为本文的签发人"):
        transitions.draft(db, spec=notice, drafter=SIGNER)
    assert audit_actions(db) == ["draft_refused"]  # audited; no document stored
    with db.transaction() as session:
        assert session.exec(select(Document)).all() == []


def test_deciding_a_draft_is_a_transition_error_and_audited(loaded, notice, pins):
    document = transitions.draft(loaded, spec=notice, drafter=DRAFTER)
    with pytest.raises(TransitionError, match="草稿"):
        transitions.decide(loaded, document_id=document.id, name=REVIEWER, pin=pins[REVIEWER], approve=True)
    assert audit_actions(loaded, document.id) == ["draft", "decision_refused"]


def test_withdraw_needs_the_drafter_and_ends_the_document(loaded, notice, pins):
    document = transitions.draft(loaded, spec=notice, drafter=DRAFTER)
    with pytest.raises(RefusedDecision):
        transitions.withdraw(loaded, document_id=document.id, name=REVIEWER, pin=pins[REVIEWER])
    assert transitions.withdraw(loaded, document_id=document.id, name=DRAFTER, pin=pins[DRAFTER]) is State.WITHDRAWN
    with pytest.raises(TransitionError, match="已撤销"):
        transitions.submit(loaded, document_id=document.id)


def test_a_drafter_without_the_role_is_refused(loaded, notice):
    with pytest.raises(RefusedDecision, match="没有拟稿权限"):
        transitions.draft(loaded, spec=notice, drafter=REVIEWER)


def test_unknown_document_is_not_found(loaded):
    with pytest.raises(InputError, match="没有编号为 999"):
        transitions.submit(loaded, document_id=999)
