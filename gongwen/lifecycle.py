"""Answering a document's lifecycle run from the command line, as a person does on its form.

``gongwen submit``, ``decide`` and ``revise`` use these for a document that a
document-lifecycle run carries: the answer is checked against the form the run
waits on (the step, the people it offers), sent through the Prefect API, and the
command waits until the run has applied it, then reports what the domain decided —
a refused answer (wrong PIN, wrong person) is exit 3, and audited, as on the CLI.
"""

from __future__ import annotations

from typing import Any

from flows.served_names import LIFECYCLE
from gongwen.desk import Desk
from models.errors import NotAllowed, RefusedDecision, StillWaiting, TransitionError
from models.lifecycle import State
from storage import documents, review
from storage.database import Database


def check_can_start(db: Database, desk: Desk, *, document_id: int) -> None:
    """A lifecycle run may start for a draft never submitted that no other live run carries."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id)
    if document.state != State.DRAFT.value or document.round != 0:
        raise TransitionError(f"公文处于「{State(document.state).label}」状态，不能送审", "state")
    if document.flow_run_id and not desk.state(document.flow_run_id).is_final():
        raise NotAllowed(f"公文 {document_id} 已由流程运行 {document.flow_run_id} 办理", "DOC")


def start(db: Database, desk: Desk, *, document_id: int) -> tuple[str, review.ReviewStage | None]:
    """送审 through the Prefect API: start the document's lifecycle run and wait until it shows its first
    form (or has finished); the run's id and the document's stage — no stage if the run has not got
    that far within the desk's patience (a busy server): the run exists and carries the document on."""
    check_can_start(db, desk, document_id=document_id)
    run_id = desk.run_deployment(LIFECYCLE, {"document_id": document_id})
    review.attach_run(db, document_id=document_id, flow_run_id=run_id)
    try:
        desk.wait(run_id)
    except StillWaiting:
        return run_id, None
    return run_id, review.stage(db, document_id=document_id)


def answer_form(
    db: Database, desk: Desk, run_id: str, *, document_id: int, answer: dict[str, Any]
) -> review.ReviewStage:
    """Answer the form the run waits on; the document's stage once the run has dealt with it."""
    state = desk.wait(run_id)
    if state.is_final():
        raise TransitionError(f"公文 {document_id} 的流程运行已结束（{state.name}），没有待办的表单", "DOC")
    form = desk.form(run_id)
    deciding = "verdict" in answer
    if ("verdict" in form.schema["properties"]) != deciding:
        waiting = review.stage(db, document_id=document_id)
        raise TransitionError(
            f"公文 {document_id} 当前等待「{waiting.step}」，不能{'审核' if deciding else '修改'}", "state"
        )
    name = answer["person"]
    if name not in form.choices("person"):
        reason = f"「{name}」不是本环节可以办理的人员（可办理：{'、'.join(form.choices('person'))}）"
        action = "decision_refused" if deciding else "resubmit_refused"
        review.record_refusal(db, document_id=document_id, name=name, action=action, reason=reason, field="as")
        raise RefusedDecision(reason, "as")
    before = review.last_event(db, document_id=document_id)
    desk.answer(run_id, answer)
    desk.wait(run_id, after_key=form.key)
    refusal = review.refusal_since(db, document_id=document_id, after=before, name=name)
    if refusal is not None:
        raise RefusedDecision(refusal, "pin" if "PIN" in refusal else "as")
    return review.stage(db, document_id=document_id)


def resume(db: Database, desk: Desk, run_id: str, *, document_id: int) -> str:
    """继续办理: run a lifecycle run that stopped without finishing (crashed, killed, failed on an outage)
    again from the top; a run waiting on a form or finished is left alone. What happened, for people."""
    state = desk.state(run_id)
    if state.is_paused():
        return f"流程运行 {run_id} 正在等待表单，无需继续"
    if state.is_completed():
        return f"流程运行 {run_id} 已完成"
    desk.reschedule(run_id)
    after = desk.wait(run_id)
    now = review.stage(db, document_id=document_id)
    return f"流程运行 {run_id} 已继续办理（{state.name} → {after.name}），公文当前：{now.state.label}"
