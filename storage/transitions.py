"""Lifecycle transitions, each in one transaction under a row lock with its audit entry.

This is where the pure lifecycle table (models.lifecycle) meets the database:
every function locks the document row, asks ``next_state`` for the target,
writes the change and appends the 审计日志 entry before the transaction commits.

- ``draft`` / ``revise``: 拟稿 and 退回修改 revisions (spec checked by 条例 rules);
- ``submit``: 送审, starting a new review round;
- ``decide``: 核稿 / 会签 / 签发 decisions (models.authorization); a refused
  attempt is audited in a transaction of its own, then raised;
- ``withdraw``: 撤销 by the drafter;
- ``register``: 登记 — the 发文字号 is taken in the same transaction (storage.counters);
  registering a registered document returns its number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from models.authorization import check_decider
from models.directory import Directory
from models.errors import NotAllowed, RefusedDecision, TransitionError
from models.lifecycle import STEP_OF_STATE, Action, Route, State, next_state, transition
from models.pin import verify_pin
from models.refno import ReferenceNumber
from models.rules import check_spec, lead_code, route_for
from models.spec import DocumentSpec
from models.tables import Decision, Document, utcnow
from models.vocabulary import Role
from storage import audit_log, counters, documents
from storage.database import Database
from storage.directory_store import find_person, load_directory

SYSTEM = "系统"
_CHINA = ZoneInfo("Asia/Shanghai")


def today() -> dt.date:
    """The office's calendar day (Asia/Shanghai)."""
    return dt.datetime.now(_CHINA).date()


def _route(document: Document) -> Route:
    return Route(review=tuple(document.review), cosign=tuple(document.cosign), sign=document.sign)


def move(session: Session, document: Document, action: Action, *, actor: str, detail: dict | None = None) -> State:
    """Apply ``action`` through the transition table and append its audit entry."""
    target = next_state(State(document.state), action, _route(document), _approved(session, document))
    before = document.state
    document.state = target.value
    document.updated_at = utcnow()
    session.add(document)
    audit_log.append(
        session,
        actor=actor,
        action=action.value,
        document_id=document.id,
        detail={"from": before, "to": target.value, **(detail or {})},
    )
    return target


def _approved(session: Session, document: Document) -> frozenset[str]:
    step = STEP_OF_STATE.get(State(document.state))
    if step is None:
        return frozenset()
    query = select(Decision.person).where(
        Decision.document_id == document.id,
        Decision.round == document.round,
        Decision.step == step.value,
        Decision.approve.is_(True),
    )
    return frozenset(session.exec(query))


def _checked(session: Session, spec: DocumentSpec, drafter: str) -> tuple[Directory, Route]:
    directory = load_directory(session)
    check_spec(spec, directory)
    person = directory.person(drafter, "as")
    if not person.has_role(Role.DRAFTER):
        raise RefusedDecision(f"「{drafter}」没有拟稿权限", "as")
    route = route_for(spec, directory)
    if route.sign == drafter:
        raise RefusedDecision(f"拟稿人「{drafter}」不能作为本文的签发人", "approval.sign")
    return directory, route


def draft(db: Database, *, spec: DocumentSpec, drafter: str, warnings: list[str] = ()) -> Document:
    """拟稿: check the spec against the 条例 rules and store a 草稿."""
    with db.transaction() as session:
        directory, route = _checked(session, spec, drafter)
        document = documents.create_draft(
            session,
            spec=spec,
            drafter=drafter,
            route=route,
            retention=spec.retention or directory.retention_for(spec.doc_type),
            lead_code=lead_code(spec, directory),
        )
        audit_log.append(
            session,
            actor=drafter,
            action="draft",
            document_id=document.id,
            detail={"title": spec.title, "version": 1, "warnings": list(warnings)},
        )
        return document


def revise(db: Database, *, document_id: int, spec: DocumentSpec, author: str) -> Document:
    """退回修改 后重新拟稿: a new content version of a 草稿, by its drafter."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        if document.state != State.DRAFT.value:
            raise TransitionError(f"公文处于「{State(document.state).label}」状态，不能修改内容", "state")
        if author != document.drafter:
            raise RefusedDecision(f"只有拟稿人「{document.drafter}」可以修改", "as")
        directory, route = _checked(session, spec, author)
        documents.replace_content(
            session,
            document=document,
            spec=spec,
            author=author,
            route=route,
            retention=spec.retention or directory.retention_for(spec.doc_type),
            lead_code=lead_code(spec, directory),
        )
        audit_log.append(
            session, actor=author, action="revise", document_id=document.id, detail={"version": document.version}
        )
        return document


def submit(db: Database, *, document_id: int) -> State:
    """送审: the drafter sends the 草稿 into review; a new round of decisions begins."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        transition(State(document.state), Action.SUBMIT)
        document.round += 1
        return move(session, document, Action.SUBMIT, actor=document.drafter, detail={"round": document.round})


@dataclass(frozen=True)
class Outcome:
    """What a decision did: the step decided and the state after it."""

    step: str
    state: State
    pending: tuple[str, ...]


def decide(
    db: Database, *, document_id: int, name: str, pin: str, approve: bool, opinion: str = "", on: dt.date | None = None
) -> Outcome:
    """核稿 / 会签 / 签发 decision; a refused attempt is audited, then raised."""
    try:
        with db.transaction() as session:
            return _decide(session, document_id, name, pin, approve, opinion, on or today())
    except NotAllowed as refusal:
        with db.transaction() as session:
            audit_log.append(
                session,
                actor=name,
                action="decision_refused",
                document_id=document_id,
                detail={"approve": approve, "reason": refusal.message},
            )
        raise


def _decide(
    session: Session, document_id: int, name: str, pin: str, approve: bool, opinion: str, on: dt.date
) -> Outcome:
    document = documents.get(session, document_id=document_id, lock=True)
    state = State(document.state)
    action = Action.APPROVE if approve else Action.RETURN
    transition(state, action)
    step = STEP_OF_STATE[state]
    route = _route(document)
    already = _approved(session, document)
    check_decider(
        name=name,
        person=find_person(session, name=name),
        step=step,
        route=route,
        drafter=document.drafter,
        already_approved=already,
        pin_matches=lambda person: verify_pin(pin, person.pin_hash),
    )
    session.add(
        Decision(
            document_id=document.id,
            round=document.round,
            version=document.version,
            step=step.value,
            person=name,
            approve=approve,
            opinion=opinion,
        )
    )
    session.flush()
    target = move(session, document, action, actor=name, detail={"step": step.value, "opinion": opinion})
    if target is State.SIGNED:
        document.signed_on = on
        session.add(document)
    pending = tuple(p for p in route.parties(step) if p not in already | {name}) if target is state else ()
    return Outcome(step.value, target, pending)


def withdraw(db: Database, *, document_id: int, name: str, pin: str) -> State:
    """撤销: the drafter ends a document that has not been signed."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        transition(State(document.state), Action.WITHDRAW)
        person = find_person(session, name=name)
        if name != document.drafter or person is None or not verify_pin(pin, person.pin_hash):
            raise RefusedDecision("只有拟稿人凭本人 PIN 可以撤销", "as")
        return move(session, document, Action.WITHDRAW, actor=name)


def register(db: Database, *, document_id: int, actor: str = SYSTEM) -> ReferenceNumber:
    """登记: assign the 发文字号 in the same transaction; idempotent per document.

    The year is that of the 成文日期 (the spec's date, else the 签发 day).
    """
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        if document.ref is not None:
            return ReferenceNumber(document.ref_code, document.ref_year, document.ref_serial)
        transition(State(document.state), Action.REGISTER)
        year = (document.date or document.signed_on or today()).year
        serial = counters.take_next(session, code=document.lead_code, year=year)
        number = ReferenceNumber(document.lead_code, year, serial)
        document.ref, document.ref_code, document.ref_year, document.ref_serial = str(number), number.code, year, serial
        document.registered_at = utcnow()
        move(session, document, Action.REGISTER, actor=actor, detail={"ref": str(number)})
        return number
