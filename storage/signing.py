"""签发 binds the content: what the 签发人 signed is what is registered, printed, archived and sent.

- ``record_signed_content``: the decision that completes 签发 records the digests (SHA-256, SM3)
  of the content signed (models.signed_content) in its row; they go into its audit entry too.
- ``signed_sha256``: that SHA-256 as a scalar subquery, for 登记 to read in the statement that
  locks the document (storage.registration: no round trip is added to its hot path).
- ``check_signed``: 印制 and 归档 (under the document's row lock) refuse a document whose content
  is no longer the one signed — VerificationFailed naming the 公文编号 and 发文字号, which the
  step audits as its refusal (``print_refused``, ``archive_refused``).

A document signed before digests were recorded (早期签发: its 签发 decision has none, migration
0006) is not checked; each step records ``signed_content: legacy`` in its audit entry instead.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ScalarSelect, select
from sqlmodel import Session

from models.lifecycle import Step
from models.signed_content import check_unchanged, content_digest, content_of_row
from models.tables import Decision, Document

_DECISIONS = Decision.__table__


def record_signed_content(session: Session, document: Document, decision: Decision) -> dict[str, str]:
    """签发: record in ``decision`` the digests of the content ``document`` holds as it is signed.

    Returns the fields the decision's audit entry records (content_sha256, content_sm3); any
    decision but a 签发 approval records nothing and returns {} — so the decision step calls this
    for every decision, before appending its audit entry.
    """
    if decision.step != Step.SIGN.value or not decision.approve:
        return {}
    signed = content_digest(content_of_row(document))
    decision.content_sha256, decision.content_sm3 = signed.sha256, signed.sm3
    session.add(decision)
    return signed.as_detail()


def signed_sha256(document_id: Any) -> ScalarSelect:
    """The content SHA-256 recorded by the document's 签发 (its last 签发 approval), as a scalar subquery
    correlated to ``document_id`` (a column or a value); NULL for a document signed before digests were
    recorded, or without a 签发 decision."""
    return (
        select(_DECISIONS.c.content_sha256)
        .where(
            _DECISIONS.c.document_id == document_id,
            _DECISIONS.c.step == Step.SIGN.value,
            _DECISIONS.c.approve.is_(True),
        )
        .order_by(_DECISIONS.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def check_signed(session: Session, document: Document, *, step: str) -> dict[str, Any]:
    """``step`` (印制, 归档) of ``document``: its content must be the one signed (models.signed_content.check_unchanged).

    Returns what the step's audit entry records; raises VerificationFailed if the content changed.
    """
    signed = session.execute(select(signed_sha256(document.id))).scalar_one()
    return check_unchanged(content_of_row(document), signed, step=step, document_id=document.id, ref=document.ref)
