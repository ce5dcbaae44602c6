"""The actions (actions.drafting, actions.deciding) and 登记 on SQLite and PostgreSQL: states, decisions,
refusals and their audit entries, registration."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from actions import deciding, drafting
from models.directory import Directory
from models.errors import InputError, RefusedDecision, TransitionError
from models.identity import Claimed, Credentials
from models.lifecycle import State
from models.spec import Approval
from models.tables import AuditEvent, Document
from models.vocabulary import Role
from storage import audit_log, documents, registration
from storage.directory_store import load_directory
from tests.storage.helpers import DRAFTER, REVIEWER, SIGNER, audit_actions, load, signed_document


@pytest.fixture
def loaded(db, kaifeng):
    load(db, kaifeng)
    return db


@pytest.fixture
def by(pins):
    """A person's credentials, with their PIN."""
    return lambda name: Credentials(name, pins[name])


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
    number = registration.register(loaded, document_id=document.id)
    assert str(number) == "汴打假〔2022〕3号"
    with loaded.transaction() as session:
        stored = documents.get(session, document_id=document.id)
        assert (stored.state, stored.ref, stored.ref_serial) == ("registered", "汴打假〔2022〕3号", 3)
        assert documents.spec_of(stored).body == notice.body
        assert audit_log.verify(session).ok
    assert audit_actions(loaded, document.id) == ["draft", "submit", "approve", "approve", "register"]


def test_registering_twice_returns_the_same_number(loaded, notice, pins):
    document = signed_document(loaded, notice, pins)
    first = registration.register(loaded, document_id=document.id)
    second = registration.register(loaded, document_id=document.id)
    other = signed_document(loaded, notice, pins)
    assert first == second
    assert registration.register(loaded, document_id=other.id).serial == first.serial + 1


def test_register_before_signing_is_refused(loaded, notice, by):
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    with pytest.raises(TransitionError, match="草稿"):
        registration.register(loaded, document_id=document.id)


def test_return_sends_back_to_draft_and_a_revision_goes_through_review_again(loaded, notice, by):
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    drafting.submit(loaded, document_id=document.id, by=by(DRAFTER))
    outcome = deciding.decide(loaded, document_id=document.id, by=by(REVIEWER), approve=False, opinion="请补充联系人")
    assert outcome == deciding.Outcome("核稿", State.DRAFT, ())
    revised = notice.model_copy(update={"title": notice.title + "（修改稿）"})
    # 修改 of a returned draft is its 重新送审, in the same transaction
    state = drafting.revise(loaded, document_id=document.id, spec=revised, by=by(DRAFTER), note="已补充")
    assert state is State.IN_REVIEW
    deciding.decide(loaded, document_id=document.id, by=by(REVIEWER), approve=True)
    with loaded.transaction() as session:
        decisions = documents.decisions(session, document_id=document.id)
        history = documents.versions(session, document_id=document.id)
        stored = documents.get(session, document_id=document.id)
        resubmitted = session.exec(select(AuditEvent).where(AuditEvent.action == "submit")).all()[-1]
    assert [(d.round, d.approve, d.opinion) for d in decisions] == [(1, False, "请补充联系人"), (2, True, "")]
    assert [v.spec["title"] for v in history] == [notice.title, revised.title]
    assert (stored.state, stored.title, stored.round, stored.version) == ("awaiting_signature", revised.title, 2, 2)
    assert json.loads(resubmitted.detail) == {
        "from": "draft",
        "to": "in_review",
        "round": 2,
        "note": "已补充",
        "proof": "PIN",
    }
    assert audit_actions(loaded, document.id) == ["draft", "submit", "return", "revise", "submit", "approve"]


def test_revising_a_draft_never_submitted_keeps_it_a_draft_and_the_same_content_makes_no_version(loaded, notice, by):
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    assert drafting.revise(loaded, document_id=document.id, spec=notice, by=by(DRAFTER)) is State.DRAFT
    revised = notice.model_copy(update={"title": notice.title + "（修改稿）"})
    assert drafting.revise(loaded, document_id=document.id, spec=revised, by=by(DRAFTER)) is State.DRAFT
    with loaded.transaction() as session:
        stored = documents.get(session, document_id=document.id)
        assert (stored.state, stored.round, stored.version) == ("draft", 0, 2)
    assert audit_actions(loaded, document.id) == ["draft", "revise"]


def test_cosigners_decide_in_any_order(loaded, notice, by, kaifeng):
    cosigner = next(p.name for p in kaifeng.people if "cosigner" in p.roles)
    spec = notice.model_copy(update={"approval": Approval(review=[REVIEWER, "张伟"], cosign=[cosigner], sign=SIGNER)})
    document = drafting.draft(loaded, spec=spec, by=by(DRAFTER))
    drafting.submit(loaded, document_id=document.id, by=by(DRAFTER))
    first = deciding.decide(loaded, document_id=document.id, by=by("张伟"), approve=True)
    assert (first.state, first.pending) == (State.IN_REVIEW, (REVIEWER,))
    second = deciding.decide(loaded, document_id=document.id, by=by(REVIEWER), approve=True)
    assert second.state is State.COSIGNING
    third = deciding.decide(loaded, document_id=document.id, by=by(cosigner), approve=True)
    assert third.state is State.AWAITING_SIGNATURE


@pytest.mark.parametrize(
    ("name", "pin_of", "reason"),
    [
        ("无此人", None, "没有人员"),
        (SIGNER, SIGNER, "没有核稿权限（须有 reviewer 角色）"),
        (SIGNER, None, "PIN 不正确"),  # the PIN is checked before the role
        ("张伟", "张伟", "不在本文的核稿人员中"),
        (REVIEWER, None, "PIN 不正确"),
    ],
)
def test_refused_decisions_are_audited_and_change_nothing(loaded, notice, pins, by, name, pin_of, reason):
    spec = notice.model_copy(update={"approval": Approval(review=[REVIEWER], sign=SIGNER)})
    document = drafting.draft(loaded, spec=spec, by=by(DRAFTER))
    drafting.submit(loaded, document_id=document.id, by=by(DRAFTER))
    with pytest.raises(RefusedDecision, match=reason):
        deciding.decide(
            loaded, document_id=document.id, by=Credentials(name, pins[pin_of] if pin_of else "000000"), approve=True
        )
    with loaded.transaction() as session:
        assert documents.get(session, document_id=document.id).state == State.IN_REVIEW
        assert documents.decisions(session, document_id=document.id) == []
        assert audit_log.verify(session).ok
        refusal = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (refusal.actor, refusal.action) == (name, "decision_refused")
    assert reason in json.loads(refusal.detail)["reason"]
    assert "000000" not in refusal.detail and all(pin not in refusal.detail for pin in pins.values())


def test_the_drafter_cannot_be_the_signer(db, notice, kaifeng, pins):
    people = [
        p.model_copy(update={"roles": [*p.roles, Role.DRAFTER]}) if p.name == SIGNER else p for p in kaifeng.people
    ]
    load(db, Directory(kaifeng.agencies, people, kaifeng.groups, kaifeng.counters, kaifeng.retention))
    with pytest.raises(RefusedDecision, match="不能作为本文的签发人"):
        drafting.draft(db, spec=notice, by=Credentials(SIGNER, pins[SIGNER]))
    assert audit_actions(db) == ["draft_refused"]  # audited; no document stored
    with db.transaction() as session:
        assert session.exec(select(Document)).all() == []


def test_deciding_a_draft_is_a_transition_error_and_audited(loaded, notice, by):
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    with pytest.raises(TransitionError, match="草稿"):
        deciding.decide(loaded, document_id=document.id, by=by(REVIEWER), approve=True)
    assert audit_actions(loaded, document.id) == ["draft", "decision_refused"]


def test_withdraw_needs_the_drafter_and_ends_the_document(loaded, notice, by):
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    with pytest.raises(RefusedDecision, match="「李红梅」没有撤销权限"):
        drafting.withdraw(loaded, document_id=document.id, by=by(REVIEWER))
    assert drafting.withdraw(loaded, document_id=document.id, by=by(DRAFTER)) is State.WITHDRAWN
    with pytest.raises(TransitionError, match="已撤销"):
        drafting.submit(loaded, document_id=document.id, by=by(DRAFTER))
    assert audit_actions(loaded, document.id) == ["draft", "withdraw_refused", "withdraw", "submit_refused"]


def test_only_the_documents_own_drafter_may_take_the_drafters_actions(db, notice, by, kaifeng):
    other = "张伟"  # a second 拟稿 role holder
    people = [
        p.model_copy(update={"roles": [*p.roles, Role.DRAFTER]}) if p.name == other else p for p in kaifeng.people
    ]
    load(db, Directory(kaifeng.agencies, people, kaifeng.groups, kaifeng.counters, kaifeng.retention))
    loaded = db
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    revised = notice.model_copy(update={"title": notice.title + "（修改稿）"})
    with pytest.raises(RefusedDecision, match=f"只有拟稿人「{DRAFTER}」可以送审"):
        drafting.submit(loaded, document_id=document.id, by=by(other))
    with pytest.raises(RefusedDecision, match=f"只有拟稿人「{DRAFTER}」可以修改"):
        drafting.revise(loaded, document_id=document.id, spec=revised, by=by(other))
    with pytest.raises(RefusedDecision, match=f"只有拟稿人「{DRAFTER}」可以撤销"):
        drafting.withdraw(loaded, document_id=document.id, by=by(other))
    assert audit_actions(loaded, document.id) == ["draft", "submit_refused", "revise_refused", "withdraw_refused"]
    with loaded.transaction() as session:
        stored = documents.get(session, document_id=document.id)
    assert (stored.state, stored.version) == ("draft", 1)


@pytest.mark.parametrize("action", ["submit", "revise", "withdraw"])
def test_the_drafters_actions_need_their_pin_checked_before_anything_else(loaded, notice, by, action):
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    wrong = Credentials(REVIEWER, "000000")  # no drafter either: the PIN is refused first
    calls = {
        "submit": lambda: drafting.submit(loaded, document_id=document.id, by=wrong),
        "revise": lambda: drafting.revise(loaded, document_id=document.id, spec=notice, by=wrong),
        "withdraw": lambda: drafting.withdraw(loaded, document_id=document.id, by=wrong),
    }
    with pytest.raises(RefusedDecision, match="PIN 不正确") as refused:
        calls[action]()
    assert refused.value.field == "pin"
    with loaded.transaction() as session:
        entry = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (entry.actor, entry.action, entry.document_id) == (REVIEWER, f"{action}_refused", document.id)
    assert json.loads(entry.detail) == {"reason": "PIN 不正确", "field": "pin"}


def test_drafting_with_a_wrong_pin_or_an_unknown_name_is_refused_and_audited(loaded, notice):
    with pytest.raises(RefusedDecision, match="PIN 不正确"):
        drafting.draft(loaded, spec=notice, by=Credentials(DRAFTER, "000000"))
    with pytest.raises(RefusedDecision, match="目录中没有人员「无此人」") as refused:
        drafting.draft(loaded, spec=notice, by=Claimed("无此人"))
    assert refused.value.field == "as"
    assert audit_actions(loaded) == ["draft_refused", "draft_refused"]


def test_a_claimed_name_takes_no_step(loaded, notice, by):
    with pytest.raises(RefusedDecision, match="须提供 PIN 或登录门户"):
        drafting.draft(loaded, spec=notice, by=Claimed(DRAFTER))
    document = drafting.draft(loaded, spec=notice, by=by(DRAFTER))
    claimed = Claimed(DRAFTER)
    for call in (
        lambda: drafting.submit(loaded, document_id=document.id, by=claimed),
        lambda: drafting.revise(loaded, document_id=document.id, spec=notice, by=claimed),
        lambda: drafting.withdraw(loaded, document_id=document.id, by=claimed),
    ):
        with pytest.raises(RefusedDecision, match="须提供 PIN") as refused:
            call()
        assert refused.value.field == "pin"
    drafting.submit(loaded, document_id=document.id, by=by(DRAFTER))
    with pytest.raises(RefusedDecision, match="须提供 PIN"):
        deciding.decide(loaded, document_id=document.id, by=Claimed(REVIEWER), approve=True)
    assert audit_actions(loaded)[0] == "draft_refused"
    assert audit_actions(loaded, document.id) == [
        "draft",
        "submit_refused",
        "revise_refused",
        "withdraw_refused",
        "submit",
        "decision_refused",
    ]
    with loaded.transaction() as session:
        assert documents.decisions(session, document_id=document.id) == []


def test_a_drafter_without_the_role_is_refused(loaded, notice, pins):
    with pytest.raises(RefusedDecision, match="「李红梅」没有拟稿权限（须有 drafter 角色）"):
        drafting.draft(loaded, spec=notice, by=Credentials(REVIEWER, pins[REVIEWER]))


def test_unknown_document_is_not_found_and_not_audited(loaded, by):
    with pytest.raises(InputError, match="没有编号为 999"):
        drafting.submit(loaded, document_id=999, by=by(DRAFTER))
    assert audit_actions(loaded) == []
