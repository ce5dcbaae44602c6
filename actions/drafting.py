"""The drafter's actions: 拟稿, 修改 (with 重新送审 after 退回修改), 送审 and 撤销.

Each proves the person (storage.directory_store.prove: name and PIN), asks the
lifecycle table whether the document's state allows the action and whether the
person holds its role — and, for a document that exists, is its drafter
(models.authorization.authorize) — then writes the change with its 审计日志 entry
in one transaction. A refusal (wrong person, wrong PIN, wrong state, no role, a
draft against the 条例 rules) is audited as ``<action>_refused`` with its reason
(storage.audit_log.refusals_audited) and raised; bad input (an unknown document, a
spec that does not parse) is raised without writing anything.
"""

from __future__ import annotations

from models.authorization import authorize
from models.identity import Identity
from models.lifecycle import Action, State
from models.spec import DocumentSpec
from models.tables import Document
from storage import audit_log, documents, transitions
from storage.database import Database
from storage.directory_store import prove


def draft(db: Database, *, spec: DocumentSpec, by: Identity, warnings: list[str] = ()) -> Document:
    """拟稿: a new 草稿 from ``spec`` by ``by``, who must hold the 拟稿 role and not sign it themself."""
    refused = {"actor": by.name, "action": "draft_refused", "detail": {"title": spec.title}}
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        prove(session, by)
        return documents.draft(session, spec=spec, drafter=by.name, warnings=list(warnings), proof=by.proof)


def revise(db: Database, *, document_id: int, spec: DocumentSpec, by: Identity, note: str = "") -> State:
    """修改: a new content version of a 草稿 by its drafter. A draft that was returned (退回修改) is
    重新送审 in the same transaction — the 修改单's answer — with ``note`` (修改说明); a draft never
    submitted stays a 草稿. The same content as now makes no new version."""
    refused = {"actor": by.name, "action": "revise_refused", "document_id": document_id}
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        authorize(prove(session, by), State(document.state), Action.REVISE, drafter=document.drafter)
        if spec != documents.spec_of(document):
            documents.revise(session, document=document, spec=spec, author=by.name, proof=by.proof)
        if document.round == 0:
            return State(document.state)
        return _submit(session, document, by, note=note)


def submit(db: Database, *, document_id: int, by: Identity) -> State:
    """送审: the drafter sends the 草稿 into review; a new round of decisions begins."""
    refused = {"actor": by.name, "action": "submit_refused", "document_id": document_id}
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        authorize(prove(session, by), State(document.state), Action.SUBMIT, drafter=document.drafter)
        return _submit(session, document, by)


def _submit(session, document: Document, by: Identity, note: str | None = None) -> State:
    document.round += 1
    detail = {"round": document.round, "proof": by.proof} | ({"note": note} if note is not None else {})
    return transitions.move(session, document, Action.SUBMIT, actor=by.name, detail=detail)


def withdraw(db: Database, *, document_id: int, by: Identity) -> State:
    """撤销: the drafter ends a document that has not been signed."""
    refused = {"actor": by.name, "action": "withdraw_refused", "document_id": document_id}
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        authorize(prove(session, by), State(document.state), Action.WITHDRAW, drafter=document.drafter)
        return transitions.move(session, document, Action.WITHDRAW, actor=by.name, detail={"proof": by.proof})
