"""审核 as a flow run sees it: which step waits, for whom, and why the last answer was refused.

A document-lifecycle run (flows.lifecycle) asks ``stage`` where the document
stands before each form it shows: the step, who may answer it now, and — after a
refused attempt — why it was refused.

``attach_run`` binds a document to the run carrying it and 送审 a draft that was
never submitted (by the drafter named on the draft form). The answers on the forms
are applied by the drafter's and reviewers' actions (actions.drafting, actions.deciding).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, select

from models.lifecycle import STEP_OF_STATE, State
from models.tables import AuditEvent, Decision, Document
from storage import audit_log, documents, transitions
from storage.database import Database

#: The stage of a returned draft: its drafter revises and 重新送审 (or 撤销).
REVISION = "修改"
RESUBMIT = "重新送审"


@dataclass(frozen=True)
class Returned:
    """One 退回修改 of the last round: who returned it, at which step, with what opinion."""

    person: str
    step: str
    opinion: str


@dataclass(frozen=True)
class ReviewStage:
    """Where a document's review stands, for the form a flow run shows."""

    document_id: int
    title: str
    state: State
    round: int
    version: int
    step: str | None  # 核稿 / 会签 / 签发, REVISION, or None when no one's answer is awaited
    eligible: tuple[str, ...]  # who may answer now
    refused: str | None  # why the last attempt at this stage was refused
    returned: tuple[Returned, ...]  # the opinions that sent it back (REVISION only)
    approved: tuple[str, ...]  # who has approved this step in this round

    @property
    def waiting(self) -> bool:
        return self.step is not None


def stage(db: Database, *, document_id: int) -> ReviewStage:
    """The document's current review stage (see the module docstring)."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id)
        state = State(document.state)
        round_decisions = _round_decisions(session, document)
        latest = session.exec(_latest_first(document_id).limit(1)).first()
    step_of_state = STEP_OF_STATE.get(state)
    approved = tuple(d.person for d in round_decisions if d.approve and d.step == step_of_state)
    returned: tuple[Returned, ...] = ()
    if step_of_state is not None:
        route = transitions.route_of(document)
        step, eligible = step_of_state.value, tuple(p for p in route.parties(step_of_state) if p not in approved)
    elif state is State.DRAFT and document.round > 0:
        step, eligible = REVISION, (document.drafter,)
        returned = tuple(Returned(d.person, d.step, d.opinion) for d in round_decisions if not d.approve)
    else:
        step, eligible = None, ()
    refused = _refusal_reason(latest) if latest is not None and _is_refusal(latest) else None
    return ReviewStage(
        document_id=document_id,
        title=document.title,
        state=state,
        round=document.round,
        version=document.version,
        step=step,
        eligible=eligible,
        refused=refused,
        returned=returned,
        approved=approved,
    )


def _round_decisions(session: Session, document: Document) -> list[Decision]:
    query = select(Decision).where(Decision.document_id == document.id, Decision.round == document.round)
    return list(session.exec(query.order_by(Decision.id)))


def attach_run(db: Database, *, document_id: int, flow_run_id: str) -> State:
    """Bind the document to its lifecycle run; its state."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        if document.flow_run_id != flow_run_id:
            document.flow_run_id = flow_run_id
            session.add(document)
            audit_log.append(
                session,
                actor=transitions.SYSTEM,
                action="lifecycle_run",
                document_id=document_id,
                detail={"flow_run_id": flow_run_id},
            )
        return State(document.state)


def bound_run(db: Database, *, document_id: int) -> str | None:
    """The id of the lifecycle run carrying a document, if a run was ever attached to it."""
    with db.transaction() as session:
        return documents.get(session, document_id=document_id).flow_run_id


def _latest_first(document_id: int):
    """The document's audit entries, newest first."""
    return select(AuditEvent).where(AuditEvent.document_id == document_id).order_by(AuditEvent.id.desc())


def _is_refusal(entry: AuditEvent) -> bool:
    return entry.action.endswith("_refused")


def _refusal_reason(entry: AuditEvent) -> str:
    return str(json.loads(entry.detail).get("reason", ""))
