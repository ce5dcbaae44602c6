"""SQLModel tables of gongwen.

- 目录: ``AgencyRow``, ``PersonRow`` (PIN as salted scrypt hash only),
  ``GroupRow``, ``RetentionRuleRow``;
- 公文: ``Document`` (every 要素 of the spec, the 办理状态, the current content
  version and, once registered, its 发文字号), ``DocumentVersion`` (each content
  version, kept through 退回修改), ``Decision`` (核稿/会签/签发 decisions; a 签发 with the digests of
  the content signed, models.signed_content);
- ``ReferenceCounter``: the last 发文顺序号 per (机关代字, 年份); ``ItemCounter``:
  the last 件号 per (全宗号, 年度, 保管期限);
- ``PrintedFile``: the files 印制 produced (docx, PDF);
- ``ArchiveRecord``: an archived 件 (档号, object keys and versions, manifest hash);
- ``Delivery`` (with ``DeliveryBase``, ``DeliveryPublic``): 核发 of a document to one
  recipient — roles, status, attempts, 签收码 hash, 签收 and 催办 (models.distribution), the SHA-256 of
  the archived files its message attached;
- ``AuditEvent`` with ``AuditHead``: the append-only, hash-chained 审计日志
  (see models.audit_chain);
- ``PinFailure``: a wrong PIN given for a person (by name), and the lock it started if it was
  the last one allowed (storage.pin_lockout);
- 年度宣传工作 (models.work): ``WorkYear`` (the year's 印发 notice, the plans' due date),
  ``ReceivedPlan`` (收文 of a unit's plan, its 收文编号), ``PlanReminder`` (催办),
  ``WorkReport`` (工作信息, 推送, 采用), ``QuarterlyCircular`` (季度通报 and its chart).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json(**kwargs: Any) -> Any:
    return Field(sa_column=Column(JSON, nullable=False), **kwargs)


class AgencyRow(SQLModel, table=True):
    """机关."""

    __tablename__ = "agencies"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    short: str | None = Field(default=None, unique=True)
    code: str | None = None
    header: str | None = None
    fonds: str | None = None
    email: str | None = None
    parent: str | None = None
    seal: str | None = None


class PersonRow(SQLModel, table=True):
    """人员 with roles; ``pin_hash`` is a salted scrypt hash."""

    __tablename__ = "people"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    agency: str
    roles: list[str] = _json(default_factory=list)
    pin_hash: str
    email: str | None = None
    title: str | None = None


class GroupRow(SQLModel, table=True):
    """收文分组 and its members (agencies, people or groups)."""

    __tablename__ = "recipient_groups"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    members: list[str] = _json(default_factory=list)


class RetentionRuleRow(SQLModel, table=True):
    """Default 保管期限 of a 文种 ('*' for every other 文种)."""

    __tablename__ = "retention_rules"
    doc_type: str = Field(primary_key=True)
    retention: str


class DocumentContent(SQLModel):
    """The 公文要素 of a document (design.md §3.1), as stored."""

    doc_type: str = Field(index=True)
    issuers: list[str] = _json(default_factory=list)
    title: str = Field(sa_column=Column(Text, nullable=False))
    to: list[str] = _json(default_factory=list)
    body: str = Field(sa_column=Column(Text, nullable=False))
    attachments: list[dict[str, Any]] = _json(default_factory=list)  # {title, body, table?}
    enclosure: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    note: str | None = Field(default=None, sa_column=Column(Text))
    date: dt.date | None = None
    cc_report: list[str] = _json(default_factory=list)
    cc: list[str] = _json(default_factory=list)
    printer: str | None = None
    print_date: dt.date | None = None
    copy_no: int | None = None
    secret: str | None = None
    secret_term: str | None = None
    urgency: str | None = None
    retention: str
    review: list[str] = _json(default_factory=list)
    cosign: list[str] = _json(default_factory=list)
    sign: str


class Document(DocumentContent, table=True):
    """A 公文 in its lifecycle: content, 办理状态, and its 发文字号 once registered."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("ref_code", "ref_year", "ref_serial", name="uq_documents_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    state: str = Field(index=True)
    drafter: str
    version: int = 1
    round: int = 0
    lead_code: str
    ref: str | None = Field(default=None, unique=True)
    ref_code: str | None = None
    ref_year: int | None = None
    ref_serial: int | None = None
    signed_on: dt.date | None = None
    registered_at: dt.datetime | None = None
    flow_run_id: str | None = None  # the Prefect document-lifecycle run that carries it, if any
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class DocumentVersion(SQLModel, table=True):
    """One content version of a document (拟稿 and each 退回修改 revision)."""

    __tablename__ = "document_versions"
    __table_args__ = (UniqueConstraint("document_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    version: int
    author: str
    spec: dict[str, Any] = _json(default_factory=dict)
    created_at: dt.datetime = Field(default_factory=utcnow)


class Decision(SQLModel, table=True):
    """A 核稿/会签/签发 decision: who, approve or return, the opinion (意见), when."""

    __tablename__ = "decisions"
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    round: int
    version: int
    step: str
    person: str
    approve: bool
    opinion: str = Field(default="", sa_column=Column(Text, nullable=False))
    decided_at: dt.datetime = Field(default_factory=utcnow)
    # 签发 only: the digests of the content signed (models.signed_content); None on any other decision
    content_sha256: str | None = None
    content_sm3: str | None = None


class ReferenceCounter(SQLModel, table=True):
    """The last 发文顺序号 used for (机关代字, 年份)."""

    __tablename__ = "reference_counters"
    code: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    last_serial: int = 0


class PrintedFile(SQLModel, table=True):
    """A file produced by 印制 (the issued .docx, its PDF), kept until it is archived."""

    __tablename__ = "printed_files"
    __table_args__ = (UniqueConstraint("document_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", index=True)
    name: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    sha256: str
    pages: int | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)


class ItemCounter(SQLModel, table=True):
    """The last 件号 used within (全宗号, 年度, 保管期限)."""

    __tablename__ = "item_counters"
    fonds: str = Field(primary_key=True)
    year: int = Field(primary_key=True)
    retention: str = Field(primary_key=True)
    last_item: int = 0


class ArchiveRecord(SQLModel, table=True):
    """An archived 件: its 档号, where its files are, and the manifest's hash."""

    __tablename__ = "archive_records"
    __table_args__ = (UniqueConstraint("fonds", "year", "retention", "item_no", name="uq_archive_item"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="documents.id", unique=True)
    archive_code: str = Field(unique=True, index=True)
    fonds: str
    year: int = Field(index=True)
    retention: str
    item_no: int
    pages: int
    store: str
    prefix: str
    manifest_sha256: str
    versions: dict[str, str] = _json(default_factory=dict)
    archived_at: dt.datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """One entry of the append-only, hash-chained 审计日志."""

    __tablename__ = "audit_events"
    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str
    actor: str
    action: str = Field(index=True)
    document_id: int | None = Field(default=None, index=True)
    detail: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str
    hash: str


class AuditHead(SQLModel, table=True):
    """The single row that holds the chain's last id and hash; locked to append."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_id: int = 0
    last_hash: str


class PinFailure(SQLModel, table=True):
    """One wrong PIN given for a person; ``locked_until`` set on the one that started a PIN lock."""

    __tablename__ = "pin_failures"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    at: dt.datetime
    locked_until: dt.datetime | None = None


class DeliveryBase(SQLModel):
    """核发 of one document to one recipient: its roles (主送/抄报/抄送), status, 签收 and 催办."""

    document_id: int = Field(foreign_key="documents.id", index=True)
    recipient: str
    address: str
    roles: list[str] = _json(default_factory=list)
    status: str = Field(index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: dt.datetime | None = None
    acked_at: dt.datetime | None = None
    acked_by: str | None = None
    reminders: int = 0
    reminded_at: dt.datetime | None = None
    escalated_at: dt.datetime | None = None


class Delivery(DeliveryBase, table=True):
    """One row per (document, recipient); ``claimed_at`` is set while a message is being sent."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("document_id", "recipient", name="uq_delivery_recipient"),)
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str | None = Field(default=None, unique=True)
    claimed_at: dt.datetime | None = None
    # the SHA-256 of each file its message attaches (name → digest, as read from the archive), set when claimed
    attached_sha256: dict[str, str] | None = Field(default=None, sa_column=Column(JSON))
    created_at: dt.datetime = Field(default_factory=utcnow)


class DeliveryPublic(DeliveryBase):
    """A delivery as commands show it (no 签收码 hash)."""

    id: int


# -- 年度宣传工作 (models.work): the plan notice of a year, 收文 of the units' plans, 催办,
# 工作信息 and what became of them, the 季度通报 ------------------------------------------------
class WorkYear(SQLModel, table=True):
    """年度工作: the 印发 notice of a year's 实施方案 and the due date it gives the units' own plans."""

    __tablename__ = "work_years"
    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    notice_id: int = Field(foreign_key="documents.id", unique=True)
    plans_due: dt.date
    created_at: dt.datetime = Field(default_factory=utcnow)


class ReceivedPlan(SQLModel, table=True):
    """收文: a unit's own annual plan, 签收 and 登记 with its 收文编号 (gap-free per year)."""

    __tablename__ = "received_plans"
    __table_args__ = (
        UniqueConstraint("year", "sender", name="uq_received_plan_sender"),
        UniqueConstraint("year", "serial", name="uq_received_plan_serial"),
    )
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(foreign_key="work_years.year", index=True)
    sender: str
    title: str = Field(sa_column=Column(Text, nullable=False))
    received_on: dt.date
    serial: int
    number: str = Field(unique=True)
    registered_by: str
    registered_at: dt.datetime = Field(default_factory=utcnow)


class PlanReminder(SQLModel, table=True):
    """催办 of an annual plan not received by its due date: one row per reminder sent (or failed)."""

    __tablename__ = "plan_reminders"
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(foreign_key="work_years.year", index=True)
    sender: str
    reminded_on: dt.date
    address: str
    error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: dt.datetime = Field(default_factory=utcnow)


class WorkReport(SQLModel, table=True):
    """工作信息 a unit reported (标题, 日期, 渠道), and its 推送 and 采用 (省简报, 国家网站), by day."""

    __tablename__ = "work_reports"
    __table_args__ = (UniqueConstraint("year", "unit", "title", name="uq_work_report"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    unit: str = Field(index=True)
    title: str
    reported_on: dt.date
    channel: str
    forwarded_on: dt.date | None = None
    province_on: dt.date | None = None
    national_on: dt.date | None = None
    recorded_by: str
    created_at: dt.datetime = Field(default_factory=utcnow)


class QuarterlyCircular(SQLModel, table=True):
    """季度通报 of 工作信息: its draft, the ranked figures it was drafted from, and their chart (PNG)."""

    __tablename__ = "quarterly_circulars"
    __table_args__ = (UniqueConstraint("year", "quarter", name="uq_quarterly_circular"),)
    id: int | None = Field(default=None, primary_key=True)
    year: int
    quarter: int
    document_id: int = Field(foreign_key="documents.id", unique=True)
    figures: list[dict[str, Any]] = _json(default_factory=list)
    chart: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    created_at: dt.datetime = Field(default_factory=utcnow)
