"""核稿, 会签 and 签发: a reviewer's, co-signer's or signer's decision (同意 or 退回修改).

The person is proven (name and PIN), the lifecycle table says whether the
document's state waits for a decision and which role gives it
(models.authorization.authorize), and the review rules say whether this person may
decide this step now (check_decider: on the 审批路径, not signing their own draft,
not approving twice). The decision, the state it leads to and the audit entry are
written in one transaction; a refusal is audited as ``decision_refused`` and raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from models.authorization import authorize, check_decider
from models.directory import Person
from models.identity import Identity
from models.lifecycle import STEP_OF_STATE, Action, Route, State, Step
from models.tables import Decision
from storage import audit_log, documents, transitions
from storage.database import Database
from storage.directory_store import prove
from storage.signing import record_signed_content


@dataclass(frozen=True)
class Outcome:
    """What a decision did: the step decided, the state after it, and who of the step is still awaited."""

    step: str
    state: State
    pending: tuple[str, ...]


def may_decide(session, document, person: Person, *, approve: bool) -> tuple[Step, Route, frozenset[str]]:
    """Whether ``person`` may decide the step ``document`` waits on now (the lifecycle table's role, the
    review rules); the step, the route and who has approved it already. RefusedDecision (or
    TransitionError) otherwise. The 门户 asks this before it passes a 审核单 answer on."""
    state = State(document.state)
    authorize(person, state, Action.APPROVE if approve else Action.RETURN)
    step = STEP_OF_STATE[state]
    route = transitions.route_of(document)
    already = transitions.approved(session, document)
    check_decider(person=person, step=step, route=route, drafter=document.drafter, already_approved=already)
    return step, route, already


def decide(
    db: Database,
    *,
    document_id: int,
    by: Identity,
    approve: bool,
    opinion: str = "",
    on: dt.date | None = None,
) -> Outcome:
    """核稿 / 会签 / 签发 by ``by``: 同意 (``approve``) or 退回修改, with ``opinion``; ``on``: the 签发 date."""
    refused = {
        "actor": by.name,
        "action": "decision_refused",
        "document_id": document_id,
        "detail": {"approve": approve},
    }
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        state, action = State(document.state), Action.APPROVE if approve else Action.RETURN
        step, route, already = may_decide(session, document, prove(session, by), approve=approve)
        decision = Decision(
            document_id=document.id,
            round=document.round,
            version=document.version,
            step=step.value,
            person=by.name,
            approve=approve,
            opinion=opinion,
        )
        session.add(decision)
        session.flush()
        signed = record_signed_content(session, document, decision)  # 签发: the content's digests ({} otherwise)
        detail = {"step": step.value, "opinion": opinion, "proof": by.proof, **signed}
        target = transitions.move(session, document, action, actor=by.name, detail=detail)
        if target is State.SIGNED:
            document.signed_on = on or transitions.today()
            session.add(document)
        pending = tuple(p for p in route.parties(step) if p not in already | {by.name}) if target is state else ()
        return Outcome(step.value, target, pending)
