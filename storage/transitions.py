"""Lifecycle transitions in the database: where the pure lifecycle table (models.lifecycle) meets the rows.

- ``move``: apply an action to a locked document through ``next_state`` and append its
  审计日志 entry, in the caller's transaction (the actions of the ``actions`` package call it);
- ``approved``: who has approved the current step in the current round;
(登记, which takes the 发文字号 with them, is storage.registration.)
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, select

from models.lifecycle import STEP_OF_STATE, Action, Route, State, next_state
from models.tables import Decision, Document, utcnow
from models.vocabulary import OFFICE_ZONE
from storage import audit_log

SYSTEM = "系统"


def today() -> dt.date:
    """The office's calendar day (Asia/Shanghai)."""
    return dt.datetime.now(OFFICE_ZONE).date()


def route_of(document: Document) -> Route:
    """A document's 审批路径 as stored."""
    return Route(review=tuple(document.review), cosign=tuple(document.cosign), sign=document.sign)


def move(session: Session, document: Document, action: Action, *, actor: str, detail: dict | None = None) -> State:
    """Apply ``action`` through the transition table and append its audit entry."""
    target = next_state(State(document.state), action, route_of(document), approved(session, document))
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


def approved(session: Session, document: Document) -> frozenset[str]:
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
