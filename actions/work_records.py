"""年度宣传工作's records kept by a person (经办人): the year's 印发 notice, 收文登记 of a unit's plan,
a unit's 工作信息 and its 推送 / 采用.

The command line (gongwen plan / info) and the flows (receive-plan, submit-work-info,
mark-work-info) both call these. The 经办人 is proven (``by``: name and PIN on the command
line, the person signed in at the 门户 who started the flow run) or, when nobody is, the
system records it; a person who cannot be proven is refused and audited (``<action>_refused``).
"""

from __future__ import annotations

import datetime as dt

from models.identity import Identity
from models.tables import ReceivedPlan, WorkReport, WorkYear
from models.work import Outcome, ReportInput
from storage import audit_log, work
from storage.database import Database
from storage.directory_store import prove
from storage.transitions import SYSTEM


def _recorder(db: Database, by: Identity | None, action: str) -> str:
    """The 经办人's name as the audit log records it: ``by`` once proven, else 系统."""
    if by is None:
        return SYSTEM
    with audit_log.refusals_audited(db, actor=by.name, action=f"{action}_refused"), db.transaction() as session:
        prove(session, by)
    return by.name


def open_year(db: Database, *, year: int, notice_id: int, plans_due: dt.date, by: Identity | None = None) -> WorkYear:
    """Make an issued 印发 notice the year's notice, with the plans' due date."""
    actor = _recorder(db, by, "work_year_opened")
    return work.open_year(db, year=year, notice_id=notice_id, plans_due=plans_due, actor=actor)


def receive_plan(
    db: Database,
    *,
    year: int,
    sender: str,
    received_on: dt.date,
    title: str | None,
    today: dt.date,
    by: Identity | None = None,
) -> ReceivedPlan:
    """收文: 签收 and 登记 a unit's annual plan with the next 收文编号."""
    actor = _recorder(db, by, "plan_received")
    return work.receive_plan(
        db, year=year, sender=sender, received_on=received_on, title=title, actor=actor, today=today
    )


def submit_report(db: Database, *, report: ReportInput, today: dt.date, by: Identity | None = None) -> WorkReport:
    """Record a unit's 工作信息."""
    return work.submit_report(db, report=report, actor=_recorder(db, by, "report_submitted"), today=today)


def mark_report(
    db: Database, *, report_id: int, outcome: Outcome, on: dt.date, today: dt.date, by: Identity | None = None
) -> WorkReport:
    """推送 or 采用 of a report."""
    actor = _recorder(db, by, f"report_{outcome.value}")
    return work.mark_report(db, report_id=report_id, outcome=outcome, on=on, actor=actor, today=today)
