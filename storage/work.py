"""年度宣传工作 in the database (models.work): each write in one transaction with its audit entry.

- ``draft_plan``: 拟稿 of a year's 印发 notice (next year's 实施方案 as its 印发件) and the
  ``WorkYear`` that makes it the year's notice, with the plans' due date; ``open_year``
  makes a notice drafted otherwise (the seed 汴打假〔2022〕3号) the year's notice.
- ``receive_plan``: 收文 of a unit's own plan — 签收 and 登记 with the next 收文编号
  (``<office code>收〔year〕N号``, gap-free: taken under the year's row lock).
- ``record_reminder``: a 催办 sent (or refused) for a plan still missing.
- ``submit_report`` / ``mark_report``: a unit's 工作信息, and its 推送 / 采用.
- ``draft_circular``: 拟稿 of a 季度通报 and its ``QuarterlyCircular`` (figures, chart).

Bad input raises InputError naming the field before anything is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlmodel import Session, select

from models.directory import Agency, Directory
from models.distribution import issuer_office
from models.errors import InputError, NotAllowed, NotFound
from models.identity import Claimed
from models.spec import DocumentSpec
from models.tables import (
    Document,
    PlanReminder,
    QuarterlyCircular,
    ReceivedPlan,
    WorkReport,
    WorkYear,
)
from models.work import (
    Outcome,
    PlanStanding,
    ReportInput,
    check_outcome,
    check_report,
    plan_standing,
    quarter_span,
    reporting_units,
)
from storage import audit_log, documents, transitions
from storage.database import Database
from storage.directory_store import load_directory


# -- the year and its notice ------------------------------------------------------------------
def _draft(session: Session, spec: DocumentSpec, drafter: str, warnings: list[str]) -> Document:
    """拟稿 of a year's notice or a 季度通报 in the caller's transaction, by the drafter named on the flow's
    form or the command line (a name without proof: ``Claimed``)."""
    return documents.draft(session, spec=spec, drafter=drafter, warnings=warnings, proof=Claimed.proof)


def find_year(session: Session, *, year: int, lock: bool = False) -> WorkYear | None:
    return session.get(WorkYear, year, with_for_update=lock, populate_existing=lock)


def get_year(session: Session, *, year: int, lock: bool = False) -> WorkYear:
    """The year's ``WorkYear``, or NotFound naming ``year``."""
    found = find_year(session, year=year, lock=lock)
    if found is None:
        raise NotFound(f"{year} 年度还没有印发实施方案的通知（gongwen plan draft 或 plan open）", "year")
    return found


def _add_year(session: Session, *, year: int, notice_id: int, plans_due: dt.date, actor: str) -> WorkYear:
    row = WorkYear(year=year, notice_id=notice_id, plans_due=plans_due)
    session.add(row)
    session.flush()
    detail = {"year": year, "plans_due": plans_due.isoformat()}
    audit_log.append(session, actor=actor, action="work_year_opened", document_id=notice_id, detail=detail)
    return row


def draft_plan(
    db: Database, *, year: int, spec: DocumentSpec, drafter: str, plans_due: dt.date, warnings: list[str]
) -> Document:
    """拟稿 of the year's 印发 notice, made the year's notice in the same transaction."""
    with db.transaction() as session:
        if find_year(session, year=year, lock=True) is not None:
            raise NotAllowed(f"{year} 年度已有印发实施方案的通知", "year")
        document = _draft(session, spec, drafter, warnings)
        _add_year(session, year=year, notice_id=document.id, plans_due=plans_due, actor=drafter)
        return document


def open_year(db: Database, *, year: int, notice_id: int, plans_due: dt.date, actor: str) -> WorkYear:
    """Make an existing 印发 notice the year's notice (idempotent for the same notice and date)."""
    with db.transaction() as session:
        notice = documents.get(session, document_id=notice_id)
        if notice.enclosure is None:
            raise InputError(f"公文 {notice_id} 不是印发实施方案的通知（没有印发件）", "notice")
        existing = find_year(session, year=year, lock=True)
        if existing is not None:
            if (existing.notice_id, existing.plans_due) == (notice_id, plans_due):
                return existing
            raise NotAllowed(f"{year} 年度已有印发实施方案的通知（公文 {existing.notice_id}）", "year")
        return _add_year(session, year=year, notice_id=notice_id, plans_due=plans_due, actor=actor)


def previous_notice(session: Session, *, year: int) -> Document:
    """The 印发 notice of ``year``'s plan: the year's notice, else the latest document whose 印发件's
    title names the year and a 方案 (a notice drafted before gongwen kept years)."""
    found = find_year(session, year=year)
    if found is not None:
        return documents.get(session, document_id=found.notice_id)
    for document in session.exec(select(Document).order_by(Document.id.desc())):
        title = (document.enclosure or {}).get("title", "")
        if title.startswith(f"{year}年") and "方案" in title and document.state != "withdrawn":
            return document
    raise NotFound(f"没有找到 {year} 年度印发实施方案的通知", "year")


@dataclass(frozen=True)
class YearContext:
    """What the year's work reads from its notice: the notice, the directory, the reporting units,
    the office (市领导小组办公室) that receives, forwards and circulates."""

    year: WorkYear
    notice: Document
    directory: Directory
    units: list[Agency]
    office: Agency


def year_context(session: Session, *, year: int, lock: bool = False) -> YearContext:
    work_year = get_year(session, year=year, lock=lock)
    notice = documents.get(session, document_id=work_year.notice_id)
    directory = load_directory(session)
    units = reporting_units(directory, notice.to)
    return YearContext(work_year, notice, directory, units, issuer_office(directory, notice.issuers[0]))


# -- 收文: the units' own plans ----------------------------------------------------------------
def receive_plan(
    db: Database, *, year: int, sender: str, received_on: dt.date, title: str | None, actor: str, today: dt.date
) -> ReceivedPlan:
    """签收 and 登记 a unit's annual plan with the next 收文编号."""
    with db.transaction() as session:
        context = year_context(session, year=year, lock=True)
        agency = context.directory.agency(sender, "sender")
        if agency.name not in {unit.name for unit in context.units}:
            raise InputError(f"「{agency.name}」不在《{context.notice.title}》的主送范围内", "sender")
        notice = context.notice
        if notice.ref is None:
            raise NotAllowed(f"《{notice.title}》尚未印发（登记），还不能收文", "year")
        issued = notice.date or notice.signed_on  # 成文日期: as written, else the 签发 day
        if received_on > today or (issued is not None and received_on < issued):
            raise InputError(f"收文日期 {received_on} 应在通知印发（{issued}）之后、今天（{today}）之前", "on")
        done = session.exec(
            select(ReceivedPlan).where(ReceivedPlan.year == year, ReceivedPlan.sender == agency.name)
        ).first()
        if done is not None:
            raise InputError(f"「{agency.name}」的年度方案已于 {done.received_on} 登记（{done.number}）", "sender")
        serial = (session.exec(select(func.max(ReceivedPlan.serial)).where(ReceivedPlan.year == year)).one() or 0) + 1
        code = context.office.code or notice.lead_code
        row = ReceivedPlan(
            year=year,
            sender=agency.name,
            title=title or f"{agency.name}{year}年打击侵权假冒宣传工作方案",
            received_on=received_on,
            serial=serial,
            number=f"{code}收〔{year}〕{serial}号",
            registered_by=actor,
        )
        session.add(row)
        session.flush()
        standing = plan_standing(context.year.plans_due, received_on, today)
        detail = {"number": row.number, "sender": row.sender, "received_on": received_on.isoformat()}
        audit_log.append(
            session,
            actor=actor,
            action="plan_received",
            document_id=notice.id,
            detail={**detail, "standing": standing.value},
        )
        return row


@dataclass(frozen=True)
class PlanReturn:
    """Where one unit's annual plan stands: received (when, 收文编号) or not, reminders sent."""

    sender: str
    due: dt.date
    received_on: dt.date | None
    number: str | None
    reminders: int
    last_reminded: dt.date | None
    standing: PlanStanding


def plan_returns(session: Session, *, year: int, at: dt.date) -> list[PlanReturn]:
    """Every unit the year's notice expects a plan from, in directory order."""
    context = year_context(session, year=year)
    received = {r.sender: r for r in session.exec(select(ReceivedPlan).where(ReceivedPlan.year == year))}
    reminders: dict[str, list[dt.date]] = {}
    for reminder in session.exec(select(PlanReminder).where(PlanReminder.year == year, PlanReminder.error.is_(None))):
        reminders.setdefault(reminder.sender, []).append(reminder.reminded_on)
    due = context.year.plans_due
    rows = []
    for unit in context.units:
        plan = received.get(unit.name)
        sent = reminders.get(unit.name, [])
        received_on = plan.received_on if plan else None
        rows.append(
            PlanReturn(
                unit.name,
                due,
                received_on,
                plan.number if plan else None,
                len(sent),
                max(sent, default=None),
                plan_standing(due, received_on, at),
            )
        )
    return rows


def record_reminder(
    db: Database, *, year: int, sender: str, address: str, on: dt.date, error: str | None, notice_id: int
) -> PlanReminder:
    """A 催办 of a missing plan, sent (``error`` None) or refused by the mail server."""
    with db.transaction() as session:
        row = PlanReminder(year=year, sender=sender, reminded_on=on, address=address, error=error)
        session.add(row)
        session.flush()
        audit_log.append(
            session,
            actor=transitions.SYSTEM,
            action="plan_reminded" if error is None else "plan_reminder_failed",
            document_id=notice_id,
            detail={"sender": sender, "on": on.isoformat(), **({"error": error} if error else {})},
        )
        return row


# -- 工作信息 -----------------------------------------------------------------------------------
def submit_report(db: Database, *, report: ReportInput, actor: str, today: dt.date) -> WorkReport:
    """Record a unit's 工作信息 (unit, title, date, channel); a second one with the same title is refused."""
    with db.transaction() as session:
        context = year_context(session, year=report.year)
        unit = check_report(report, context.directory, context.units, today=today)
        same = session.exec(
            select(WorkReport).where(
                WorkReport.year == report.year, WorkReport.unit == unit, WorkReport.title == report.title
            )
        ).first()
        if same is not None:
            raise InputError(f"「{unit}」已于 {same.reported_on} 报送同题信息（编号 {same.id}）", "title")
        row = WorkReport(
            year=report.year,
            unit=unit,
            title=report.title,
            reported_on=report.date,
            channel=report.channel.value,
            recorded_by=actor,
        )
        session.add(row)
        session.flush()
        detail = {"report": row.id, "unit": unit, "title": row.title, "date": row.reported_on.isoformat()}
        audit_log.append(session, actor=actor, action="report_submitted", detail={**detail, "channel": row.channel})
        return row


def mark_report(
    db: Database, *, report_id: int, outcome: Outcome, on: dt.date, actor: str, today: dt.date
) -> WorkReport:
    """推送 (by the office) or 采用 (by the province's bulletin, by the national site) of a report."""
    with db.transaction() as session:
        row = session.get(WorkReport, report_id, with_for_update=True, populate_existing=True)
        if row is None:
            raise NotFound(f"没有编号为 {report_id} 的工作信息", "REPORT")
        check_outcome(row, outcome, on, today=today)
        setattr(row, outcome.column, on)
        session.add(row)
        detail = {"report": row.id, "unit": row.unit, "title": row.title, "outcome": outcome.value}
        audit_log.append(
            session, actor=actor, action=f"report_{outcome.value}", detail={**detail, "on": on.isoformat()}
        )
        return row


def reports_touching(session: Session, *, start: dt.date, end: dt.date) -> list[WorkReport]:
    """Reports reported, forwarded or adopted between ``start`` and ``end`` (both included)."""
    columns = (WorkReport.reported_on, WorkReport.forwarded_on, WorkReport.province_on, WorkReport.national_on)
    query = select(WorkReport).where(or_(*(column.between(start, end) for column in columns)))
    return list(session.exec(query.order_by(WorkReport.reported_on, WorkReport.id)))


def reports_of_year(session: Session, *, year: int) -> list[WorkReport]:
    query = select(WorkReport).where(WorkReport.year == year).order_by(WorkReport.reported_on, WorkReport.id)
    return list(session.exec(query))


def reports_of_quarter(session: Session, *, year: int, quarter: int) -> list[WorkReport]:
    start, end = quarter_span(year, quarter)
    return reports_touching(session, start=start, end=end)


# -- 季度通报 -----------------------------------------------------------------------------------
def find_circular(session: Session, *, year: int, quarter: int) -> QuarterlyCircular | None:
    query = select(QuarterlyCircular).where(QuarterlyCircular.year == year, QuarterlyCircular.quarter == quarter)
    return session.exec(query).first()


def draft_circular(
    db: Database,
    *,
    year: int,
    quarter: int,
    spec: DocumentSpec,
    drafter: str,
    figures: list[dict],
    chart: bytes | None,
) -> QuarterlyCircular:
    """拟稿 of a 季度通报 with its figures and chart; a quarter has one (a second call returns it)."""
    with db.transaction() as session:
        get_year(session, year=year, lock=True)  # one drafter of the year's circulars at a time
        existing = find_circular(session, year=year, quarter=quarter)
        if existing is not None:
            return existing
        document = _draft(session, spec, drafter, [])
        row = QuarterlyCircular(year=year, quarter=quarter, document_id=document.id, figures=figures, chart=chart)
        session.add(row)
        session.flush()
        detail = {"year": year, "quarter": quarter, "units": len(figures)}
        audit_log.append(session, actor=drafter, action="circular_drafted", document_id=document.id, detail=detail)
        return row
