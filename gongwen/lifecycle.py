"""Answering a document's lifecycle run from the command line, as a person does on its form.

``gongwen submit``, ``decide``, ``revise`` and ``withdraw`` use these with a server: the command goes
through the 门户 as the person signed in there (``PREFECT_API_URL`` at the gateway, the session token as
``PREFECT_API_KEY``), which checks and stamps it (gongwen.gateway.stamping) as it does a form answered
in the UI; the command waits until the run has applied it, then reports what the domain decided — a
refused answer (wrong person, wrong step) is exit 3 with the reason, audited, as without a server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from actions import answering
from flows.served_names import LIFECYCLE
from gongwen.desk import Desk
from models.errors import NotAllowed, ServiceUnavailable, StillWaiting, from_record
from storage import audit_log, review
from storage.database import Database


def start(db: Database, desk: Desk, *, document_id: int) -> tuple[str, review.ReviewStage | None]:
    """送审 through the 门户: the document's lifecycle run is started as the signed-in person, and 送审s the
    draft as them (flows.lifecycle.attach: only its drafter may). Nothing is written here: a server that
    is down, before or as the run is created, is exit 4 with the document still a 草稿."""
    desk.deployment(LIFECYCLE)
    down = f"未能启动公文 {document_id} 的流程运行（{{error}}），公文仍为草稿；服务器恢复后重新送审"
    run_id = _created(desk, document_id, down)
    return run_id, _first_form(db, desk, run_id, document_id=document_id)


def carry(db: Database, desk: Desk, *, document_id: int) -> tuple[str, review.ReviewStage | None]:
    """Start the lifecycle run that carries a submitted document (``gongwen resume`` on the server's
    machine, for a document submitted while the server was down) and wait until it shows its first form
    (or has finished); the run's id and the document's stage. If the run cannot be created, the
    document stays submitted and ``gongwen resume`` starts its run later."""
    down = f"公文 {document_id} 已送审，但未能启动其流程运行（{{error}}）；Prefect 服务器恢复后执行 gongwen resume {document_id}"
    run_id = _created(desk, document_id, down)
    return run_id, _first_form(db, desk, run_id, document_id=document_id)


def _created(desk: Desk, document_id: int, down: str) -> str:
    """A new lifecycle run for the document; ServiceUnavailable saying ``down`` (its ``{error}`` filled in)
    if it cannot be created."""
    try:
        return desk.run_deployment(LIFECYCLE, {"document_id": document_id})
    except ServiceUnavailable as error:
        raise ServiceUnavailable(down.format(error=error.message)) from None


def _first_form(db: Database, desk: Desk, run_id: str, *, document_id: int) -> review.ReviewStage | None:
    """The document's stage once its run shows its first form (or has finished); None if the run has not
    got that far within the desk's patience (a busy server): the run exists and carries the document on."""
    try:
        desk.wait(run_id)
    except StillWaiting:
        return None
    return review.stage(db, document_id=document_id)


def answer_form(
    db: Database,
    desk: Desk,
    run_id: str,
    *,
    document_id: int,
    answer: dict[str, Any],
    person: str,
    here: Callable[[], object],
) -> review.ReviewStage:
    """Answer the form the run waits on, as ``person`` (the desk's signed-in person); the document's stage
    once the run has applied the answer.

    The 门户 checks the answer first (actions.answering.check) and a refusal comes back at once, audited
    there; the run applies an accepted one with the same action and publishes the outcome beside the form
    (flows.lifecycle ``outcome-answer-N``), a refusal as the same error the action raises. A run that has
    stopped, or finished, takes no answer: the refusal is audited here under the action's name. An answer
    for the other kind of form is checked by the same rules here and, if they allow it (a drafter's 撤销
    while a 审核单 waits), taken by ``here`` in this process."""
    state = desk.wait(run_id)
    if state.is_final():
        if state.is_completed():  # the document has gone past every form: the action's own rules say why
            answering.check(db, document_id=document_id, name=person, answer=answer)
        refused = {"actor": person, "action": answering.refusal_action(answer), "document_id": document_id}
        with audit_log.refusals_audited(db, **refused):
            raise NotAllowed(
                f"公文 {document_id} 的流程运行已停止（{state.name}），请先执行 gongwen resume {document_id}", "DOC"
            )
    form = desk.form(run_id)
    if ("verdict" in form.schema.get("properties", {})) != ("verdict" in answer):
        # not the kind of form the run waits on: the action's rules refuse it (audited), or — 撤销 while a
        # 审核单 waits — the drafter's action is taken here (``here``: name and PIN, as without a server)
        answering.check(db, document_id=document_id, name=person, answer=answer)
        here()
        return review.stage(db, document_id=document_id)
    desk.answer(run_id, answer)
    outcome = desk.outcome(run_id, form.key)
    if not outcome["accepted"]:
        raise from_record(outcome["error"])
    desk.wait(run_id, after_key=form.key)  # the run goes on to its next form, or issues after 签发 and ends
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
