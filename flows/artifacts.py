"""What a person sees on a flow run's Artifacts tab: the document, its decisions, its archive.

``preview`` is the document's 公文要素 as markdown with a link to its current version's PDF,
``decisions_table`` every 审核 decision of every round, ``archive_link`` the link to the archived
PDF, ``deliveries_table`` the
核发 and 签收 of each recipient, ``checks_table`` the 四性检测 results.
Artifacts are keyed per document (``document-<id>-…``), so the UI keeps each
one's history across runs. Every link to a file is a signed, time-limited link at the 门户
(models.download_links), checked there against the person who opens it.
"""

from __future__ import annotations

import datetime as dt

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from flows.runtime import services
from models.distribution import DeliveryStatus, roles_label
from models.download_links import ArchivedFile, Download, DraftPdf
from models.lifecycle import State
from models.tables import ArchiveRecord, Decision, Delivery, Document
from storage.archive_checks import Check


def _key(document_id: int, what: str) -> str:
    return f"document-{document_id}-{what}"


def download_url(download: Download) -> str | None:
    """The 门户's link to ``download`` (None where this process has no links: no secret key)."""
    links = services().links
    return links.url(download) if links is not None else None


def preview(document: Document) -> None:
    """公文要素 of the current version, as markdown, and a link to its PDF (未编号: 发文字号 comes at 登记)."""
    pdf = download_url(DraftPdf(document.id, document.version))
    lines = [
        f"# {document.title}",
        "",
        "| 要素 | 内容 |",
        "|---|---|",
        f"| 文种 | {document.doc_type} |",
        f"| 发文机关 | {'、'.join(document.issuers)} |",
        f"| 发文字号 | {document.ref or '（登记后生成）'} |",
        f"| 主送 | {'、'.join(document.to) or '—'} |",
        f"| 抄报 | {'、'.join(document.cc_report) or '—'} |",
        f"| 抄送 | {'、'.join(document.cc) or '—'} |",
        f"| 成文日期 | {document.signed_on or document.date or '（签发日）'} |",
        f"| 办理状态 | {State(document.state).label}（第 {document.version} 稿） |",
        f"| 拟稿 / 签发 | {document.drafter} / {document.sign} |",
        "",
        *([f"[第 {document.version} 稿 PDF（未编号，限时链接）]({pdf})", ""] if pdf else []),
        *(f"> {line}" if line else ">" for line in document.body.splitlines()[:12]),
    ]
    if len(document.body.splitlines()) > 12:
        lines.append("> ……")
    create_markdown_artifact(
        key=_key(document.id, "preview"), markdown="\n".join(lines), description=f"《{document.title}》公文要素"
    )


def decisions_table(document_id: int, decisions: list[Decision]) -> None:
    """Every 审核 decision of every round."""
    rows = [
        {
            "轮次": d.round,
            "稿次": d.version,
            "环节": d.step,
            "审核人": d.person,
            "结论": "同意" if d.approve else "退回修改",
            "意见": d.opinion,
            "时间": d.decided_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }
        for d in decisions
    ]
    create_table_artifact(key=_key(document_id, "decisions"), table=rows, description="审核记录（核稿、会签、签发）")


def archive_link(document_id: int, record: ArchiveRecord) -> None:
    """The archived PDF."""
    url = download_url(ArchivedFile(document_id, f"{record.prefix}/document.pdf", record.versions["document.pdf"]))
    if url is not None:
        create_link_artifact(
            key=_key(document_id, "archive"),
            link=url,
            link_text=f"{record.archive_code} document.pdf",
            description="归档的 PDF（限时链接，经门户下载）",
        )


def archive_files(document_id: int, record: ArchiveRecord) -> None:
    """档案利用: a link to each archived file."""
    for name, version in sorted(record.versions.items()):
        url = download_url(ArchivedFile(document_id, f"{record.prefix}/{name}", version))
        if url is not None:
            create_link_artifact(
                link=url, link_text=f"{record.archive_code}/{name}", description="下载链接（限时，经门户下载）"
            )


def deliveries_table(document_id: int, deliveries: list[Delivery], key: str = "deliveries") -> None:
    """核发 and 签收 of each recipient."""
    rows = [
        {
            "收文单位": d.recipient,
            "角色": roles_label(d.roles),
            "状态": DeliveryStatus(d.status).label,
            "发送时间": d.sent_at.strftime("%Y-%m-%d %H:%M") if d.sent_at else "",
            "签收": d.acked_by or "",
            "催办次数": d.reminders,
            "错误": d.last_error or "",
        }
        for d in deliveries
    ]
    create_table_artifact(key=_key(document_id, key), table=rows, description="核发与签收")


def overdue_table(deliveries: list[Delivery]) -> None:
    """Deliveries past the 签收 deadline (催办)."""
    rows = [
        {
            "公文": d.document_id,
            "收文单位": d.recipient,
            "发送时间": d.sent_at.strftime("%Y-%m-%d %H:%M") if d.sent_at else "",
            "催办次数": d.reminders,
            "已升级": "是" if d.escalated_at else "否",
        }
        for d in deliveries
    ]
    create_table_artifact(key="overdue-deliveries", table=rows, description="逾期未签收（催办）")


def checks_table(document_id: int, checks: list[Check]) -> None:
    """四性检测 results."""
    rows = [
        {"性质": c.property, "检测项": c.name, "结果": "通过" if c.ok else "失败", "说明": c.detail} for c in checks
    ]
    create_table_artifact(key=_key(document_id, "checks"), table=rows, description="四性检测")


def metadata_table(document_id: int, metadata: dict[str, object]) -> None:
    """The archive package's metadata."""
    rows = [{"元数据": name, "值": str(value)} for name, value in metadata.items()]
    create_table_artifact(key=_key(document_id, "metadata"), table=rows, description="归档元数据")


def batch_table(issued: dict[int, tuple[str, str]]) -> None:
    """The documents a batch run issued: 公文编号, 发文字号, 档号."""
    rows = [{"公文": document_id, "发文字号": ref, "档号": code} for document_id, (ref, code) in issued.items()]
    create_table_artifact(key="issued-batch", table=rows, description="成批发文办理结果")
