"""Documents and their content versions (拟稿, 退回修改 revisions)."""

from __future__ import annotations

from sqlmodel import Session, select

from models.errors import NotFound
from models.lifecycle import Route, State
from models.rules import draft_terms
from models.spec import DocumentSpec
from models.tables import Decision, Document, DocumentContent, DocumentVersion, utcnow
from models.vocabulary import Retention
from storage import audit_log
from storage.directory_store import load_directory


def content_of(spec: DocumentSpec, *, route: Route, retention: Retention) -> dict:
    """The stored 公文要素 of a spec, with its resolved 审批路径 and 保管期限."""
    data = spec.model_dump(mode="python", exclude={"issuer", "approval", "ref", "retention"})
    data["issuers"] = list(spec.issuer)
    data["attachments"] = [a.model_dump() for a in spec.attachments]
    data["enclosure"] = spec.enclosure.model_dump() if spec.enclosure else None
    for key in ("doc_type", "secret", "urgency"):
        data[key] = data[key].value if data[key] is not None else None
    return {
        **data,
        "retention": retention.value,
        "review": list(route.review),
        "cosign": list(route.cosign),
        "sign": route.sign,
    }


def spec_of(document: DocumentContent) -> DocumentSpec:
    """The spec a stored document was drafted from (current version)."""
    data = document.model_dump(include=set(DocumentContent.model_fields))
    issuers = data.pop("issuers")
    approval = {"review": data.pop("review"), "cosign": data.pop("cosign"), "sign": data.pop("sign")}
    clean = {key: value for key, value in data.items() if value not in (None, [], {})}
    return DocumentSpec.model_validate({**clean, "issuer": issuers, "approval": approval})


def create_draft(
    session: Session, *, spec: DocumentSpec, drafter: str, route: Route, retention: Retention, lead_code: str
) -> Document:
    """A new 草稿 (version 1)."""
    document = Document(
        **content_of(spec, route=route, retention=retention),
        state=State.DRAFT.value,
        drafter=drafter,
        lead_code=lead_code,
    )
    session.add(document)
    session.flush()
    session.add(DocumentVersion(document_id=document.id, version=1, author=drafter, spec=spec.to_data()))
    return document


def replace_content(
    session: Session,
    *,
    document: Document,
    spec: DocumentSpec,
    author: str,
    route: Route,
    retention: Retention,
    lead_code: str,
) -> Document:
    """A new content version of a 草稿 (after 退回修改); earlier versions are kept."""
    for key, value in content_of(spec, route=route, retention=retention).items():
        setattr(document, key, value)
    document.version += 1
    document.lead_code = lead_code
    document.updated_at = utcnow()
    session.add(document)
    session.add(DocumentVersion(document_id=document.id, version=document.version, author=author, spec=spec.to_data()))
    return document


def draft(session: Session, *, spec: DocumentSpec, drafter: str, warnings: list[str], proof: str) -> Document:
    """拟稿 in the caller's transaction: spec and drafter checked (models.rules.draft_terms), the 草稿
    stored and its audit entry appended (``proof``: how the drafter was identified)."""
    terms = draft_terms(spec, load_directory(session), drafter)
    document = create_draft(session, spec=spec, drafter=drafter, **terms)
    detail = {"title": spec.title, "version": 1, "warnings": list(warnings), "proof": proof}
    audit_log.append(session, actor=drafter, action="draft", document_id=document.id, detail=detail)
    return document


def revise(session: Session, *, document: Document, spec: DocumentSpec, author: str, proof: str) -> Document:
    """修改稿 in the caller's transaction: a new content version, checked as a draft is, with its audit entry."""
    terms = draft_terms(spec, load_directory(session), author)
    replace_content(session, document=document, spec=spec, author=author, **terms)
    detail = {"version": document.version, "proof": proof}
    audit_log.append(session, actor=author, action="revise", document_id=document.id, detail=detail)
    return document


def get(session: Session, *, document_id: int, lock: bool = False) -> Document:
    """A document by id (row-locked when ``lock``), or NotFound."""
    document = session.get(Document, document_id, with_for_update=lock, populate_existing=lock)
    if document is None:
        raise NotFound(f"没有编号为 {document_id} 的公文", "DOC")
    return document


def find_by_ref(session: Session, *, ref: str) -> Document:
    document = session.exec(select(Document).where(Document.ref == ref)).first()
    if document is None:
        raise NotFound(f"没有发文字号为「{ref}」的公文", "REF")
    return document


def decisions(session: Session, *, document_id: int) -> list[Decision]:
    query = select(Decision).where(Decision.document_id == document_id).order_by(Decision.id)
    return list(session.exec(query))


def versions(session: Session, *, document_id: int) -> list[DocumentVersion]:
    query = select(DocumentVersion).where(DocumentVersion.document_id == document_id).order_by(DocumentVersion.version)
    return list(session.exec(query))
