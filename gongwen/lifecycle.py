"""Answering a document's lifecycle run from the command line, as a person does on its form.

``gongwen submit``, ``decide`` and ``revise`` use these for a document that a
document-lifecycle run carries: the answer is checked against the form the run
waits on (the step, the people it offers), sent through the Prefect API, and the
command waits until the run has applied it, then reports what the domain decided —
a refused answer (wrong PIN, wrong person) is exit 3, and audited, as on the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.served_names import LIFECYCLE
from gongwen.desk import Desk
from models.errors import NotAllowed, ServiceUnavailable, StillWaiting, from_record
from models.lifecycle import State
from storage import audit_log, review
from storage.database import Database


def start(
    db: Database, desk: Desk, *, document_id: int, submit: Callable[[], State]
) -> tuple[str, review.ReviewStage | None]:
    """送审 through the Prefect API: ``submit`` (the drafter's action, proven and audited as without a
    server), then the document's lifecycle run (``carry``). The server is reached before anything is
    written, so a server that is down is exit 4 with the document still a 草稿."""
    desk.deployment(LIFECYCLE)
    submit()
    return carry(db, desk, document_id=document_id)


def carry(db: Database, desk: Desk, *, document_id: int) -> tuple[str, review.ReviewStage | None]:
    """Start the lifecycle run that carries a submitted document and wait until it shows its first form
    (or has finished); the run's id and the document's stage — no stage if the run has not got that far
    within the desk's patience (a busy server): the run exists and carries the document on. If the run
    cannot be created, the document stays submitted and ``gongwen resume`` starts its run later."""
    try:
        run_id = desk.run_deployment(LIFECYCLE, {"document_id": document_id})
    except ServiceUnavailable as error:
        raise ServiceUnavailable(
            f"公文 {document_id} 已送审，但未能启动其流程运行（{error.message}）；"
            f"Prefect 服务器恢复后执行 gongwen resume {document_id}"
        ) from None
    review.attach_run(db, document_id=document_id, flow_run_id=run_id)
    try:
        desk.wait(run_id)
    except StillWaiting:
        return run_id, None
    return run_id, review.stage(db, document_id=document_id)


def answer_form(
    db: Database, desk: Desk, run_id: str, *, document_id: int, answer: dict[str, Any], here: Callable[[], object]
) -> review.ReviewStage:
    """Answer the form the run waits on; the document's stage once the run has applied the answer.

    The run applies the answer with the action ``here`` calls, and publishes the outcome beside the
    form (flows.lifecycle ``outcome-answer-N``): a refusal comes back as the same error, with the same
    message, as ``here`` would raise. An answer the run cannot take — it waits on no form, on the other
    kind of form, or does not offer this person — is given to ``here`` in this process: the action
    refuses it as it does without a server (the state or the person does not allow it) and audits it.
    """
    state = desk.wait(run_id)
    if state.is_final() and not state.is_completed():
        refused = {"actor": answer["person"], "action": _refused_as(answer), "document_id": document_id}
        with audit_log.refusals_audited(db, **refused):
            raise NotAllowed(
                f"公文 {document_id} 的流程运行已停止（{state.name}），请先执行 gongwen resume {document_id}", "DOC"
            )
    form = None if state.is_final() else desk.form(run_id)
    deciding = "verdict" in answer
    if (
        form is None
        or ("verdict" in form.schema["properties"]) != deciding
        or answer["person"] not in form.choices("person")
    ):
        here()
        return review.stage(db, document_id=document_id)
    desk.answer(run_id, answer)
    outcome = desk.outcome(run_id, form.key)
    if not outcome["accepted"]:
        raise from_record(outcome["error"])
    desk.wait(run_id, after_key=form.key)  # the run goes on to its next form, or issues after 签发 and ends
    return review.stage(db, document_id=document_id)


def _refused_as(answer: dict[str, Any]) -> str:
    """The audit action of a refused answer, as its action names it."""
    if "verdict" in answer:
        return "decision_refused"
    return "withdraw_refused" if answer["action"] == "撤销" else "revise_refused"


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
