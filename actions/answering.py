"""Answers to a lifecycle run's forms (审核单, 修改单) given through the 门户.

- ``check``: before the gateway passes an answer on, whether the signed-in person may give it now —
  the same rules as the action that will apply it (actions.deciding.may_decide for a 审核单; the
  drafter's role and document for a 修改单); a refusal is audited under that action's name and raised,
  so the person learns at once and nothing reaches the run.
- ``signed_in``: in the run, the person an answer comes from, once the gateway's stamp on it is
  verified (models.stamps); an answer without a valid stamp (sent around the gateway, altered, replayed
  onto another form, too old) is refused and audited, and the run waits on the same step again;
- ``started_by``: the same for whoever started a run of a deployment (the stamp in the run's context).
"""

from __future__ import annotations

from typing import Any

from actions import deciding
from models import stamps
from models.authorization import authorize
from models.errors import RefusedDecision
from models.identity import SignedIn
from models.lifecycle import Action, State
from storage import audit_log, documents
from storage.database import Database
from storage.directory_store import find_person


def refusal_action(answer: dict[str, Any]) -> str:
    """The audit action of a refused answer, as the action that applies it names it."""
    if "verdict" in answer:
        return "decision_refused"
    return "withdraw_refused" if answer.get("action") == "撤销" else "revise_refused"


def check(db: Database, *, document_id: int, name: str, answer: dict[str, Any]) -> None:
    """Whether ``name`` may give ``answer`` to the form ``document_id`` waits on now (see the module)."""
    refused = {"actor": name, "action": refusal_action(answer), "document_id": document_id}
    if "verdict" in answer:  # as actions.deciding.decide records its refusals
        refused["detail"] = {"approve": answer["verdict"] == Action.APPROVE.label}
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        document = documents.get(session, document_id=document_id)
        person = find_person(session, name=name)
        if person is None:
            raise RefusedDecision(f"目录中没有人员「{name}」", "as")
        if "verdict" in answer:
            deciding.may_decide(session, document, person, approve=answer["verdict"] == Action.APPROVE.label)
        else:
            action = Action.WITHDRAW if answer.get("action") == "撤销" else Action.REVISE
            authorize(person, State(document.state), action, drafter=document.drafter)


def check_submit(db: Database, *, document_id: int, name: str) -> None:
    """Before the 门户 starts a document's lifecycle run for ``name``: the run 送审s the draft as them, so
    only its drafter may start it, and only while it is a 草稿 (the rule of actions.drafting.submit);
    refused and audited as ``submit_refused`` otherwise. (A run for a document already submitted, whose
    run was never created, is started by ``gongwen resume`` on the server's machine.)"""
    with audit_log.refusals_audited(db, actor=name, action="submit_refused", document_id=document_id):
        with db.transaction() as session:
            document = documents.get(session, document_id=document_id)
            person = find_person(session, name=name)
            if person is None:
                raise RefusedDecision(f"目录中没有人员「{name}」", "as")
            authorize(person, State(document.state), Action.SUBMIT, drafter=document.drafter)


def signed_in(
    db: Database, key: bytes | None, *, document_id: int, target: str, answer: dict[str, Any], stamp: object, now: float
) -> SignedIn:
    """The person whose stamp ``stamp`` is, over ``answer`` for ``target``; RefusedDecision, audited, if it
    is not a valid one."""
    claimed = str(stamp.get("person")) if isinstance(stamp, dict) and stamp.get("person") else "（未署名）"
    refused = {"actor": claimed, "action": refusal_action(answer), "document_id": document_id}
    with audit_log.refusals_audited(db, **refused):
        if key is None:
            raise RefusedDecision("本流程运行没有核验门户签章的密钥，不能接受答复", stamps.FIELD)
        verified = stamps.verify(key, stamp, target=target, content=answer, now=now)
    return SignedIn(verified.person, verified.nonce, verified.target)


def started_by(
    db: Database, key: bytes | None, *, stamp: object, target: str, parameters: dict[str, Any], action: str, now: float
) -> SignedIn:
    """The person who started a run (拟稿, 登记 of 工作信息 …) at the 门户: the stamp in its context, over its
    parameters, verified; a run started around the gateway is refused, audited as ``action``."""
    claimed = str(stamp.get("person")) if isinstance(stamp, dict) and stamp.get("person") else "（未署名）"
    with audit_log.refusals_audited(db, actor=claimed, action=action, detail={"target": target}):
        if key is None:
            raise RefusedDecision("本流程运行没有核验门户签章的密钥，不能受理", stamps.FIELD)
        verified = stamps.verify(key, stamp, target=target, content=parameters, now=now)
    return SignedIn(verified.person, verified.nonce, verified.target)
