"""Auditors' flows. audit-retrieve (档案利用): an auditor finds an archived document by its 发文字号;
anchor-audit-log (审计链锚点): every day the 审计日志's head is put into the archive (storage.audit_anchors).

An audit-retrieve run shows the package's metadata, the 四性检测 (authenticity, integrity,
usability, security; storage.archive_checks, storage.record_checks) and a time-limited link to each
archived file at the 门户 (flows.artifacts.archive_files), and fails when any check fails, naming it.
"""

from __future__ import annotations

from prefect import flow

from actions import auditing
from flows import artifacts
from flows.runtime import services
from models.errors import VerificationFailed
from storage import archiving, audit_anchors


@flow(name="audit-retrieve", persist_result=True)
def audit_retrieve(ref: str) -> dict[str, object]:
    """归档检索 and 四性检测 of one archived document.

    Args:
        ref: 发文字号，如 汴打假〔2022〕3号
    """
    s = services()
    verified = auditing.verify(s.db, s.archive_store, ref=ref, field="ref")
    ((record, package),) = verified.packages
    checks = [*verified.general, *package]
    with s.db.transaction() as session:
        document = auditing.find_archived(session, ref, "ref").document
    artifacts.metadata_table(document.id, archiving.package_metadata(document, record))
    artifacts.checks_table(document.id, checks)
    artifacts.archive_files(document.id, record)
    failed = [f"{c.property}·{c.name}：{c.detail}" for c in verified.failures]
    if failed:
        raise VerificationFailed("四性检测未通过：" + "；".join(failed), "ref")
    return {"ref": ref, "archive_code": record.archive_code, "ok": True, "checks": len(checks)}


@flow(name="anchor-audit-log", persist_result=True)
def anchor_audit_log() -> dict[str, object]:
    """审计链锚点: put the chain head into the archive, so that from then on a rewritten 审计日志 is
    caught by 四性检测; fails, anchoring nothing, when the chain is already broken."""
    s = services()
    anchored = audit_anchors.anchor(s.db, s.archive_store, lock_mode=s.lock_mode)
    if anchored is None:
        return {"anchored": False}
    return {"anchored": True, "last_id": anchored.last_id, "key": anchored.key}
