"""年度宣传工作, orchestrated without Prefect (the CLI calls these; the flows of flows.annual_flows
wrap them in tasks): thin steps over models.work, models.work_drafts and storage.work.

- ``draft_annual_plan``: next year's 实施方案 and its 印发 notice, drafted from last year's;
  a year has one (a second call returns it).
- ``chase_plans``: 催办 of each unit whose plan has not arrived by the notice's due date,
  then again each ``every`` after the last reminder.
- ``draft_quarterly_circular``: the 季度通报 of 工作信息 — figures per unit, ranked, the
  通报表扬 of adopted reports, the 统计表 as its 附件, and the chart (PNG); one per quarter.
- ``assessment``: each county's 考核 points for a year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from actions.distribution import MailOptions, send_with_retries
from delivery.base import Channel
from delivery.message import Letterhead, plan_reminder_message
from doc_templates.charts import figures_chart
from models.distribution import Recipient, RecipientRole, issuer_office
from models.errors import InputError
from models.work import (
    QUARTERS,
    AssessmentRules,
    Outcome,
    Score,
    adopted_in,
    assess,
    chase_due,
    count_quarter,
    counties,
    display_name,
    figures_of,
    quarter_span,
    rank,
)
from models.work_drafts import NationalNotice, circular_spec, next_year_notice
from storage import documents, work
from storage.database import Database
from storage.directory_store import load_directory

#: The figures' names, in the order of the 统计表 and the chart.
SERIES = ("报送信息", Outcome.FORWARDED.label, Outcome.PROVINCE.label, Outcome.NATIONAL.label)


@dataclass(frozen=True)
class PlanDraft:
    """The year's 印发 notice: its id, whether this call drafted it, notes for the drafter."""

    document_id: int
    created: bool
    notes: list[str] = field(default_factory=list)


def draft_annual_plan(
    db: Database, *, year: int, plans_due: dt.date, national: NationalNotice | None = None, drafter: str | None = None
) -> PlanDraft:
    """拟稿 of ``year``'s 印发 notice and 实施方案 from last year's (models.work_drafts)."""
    with db.transaction() as session:
        existing = work.find_year(session, year=year)
        if existing is not None:
            return PlanDraft(existing.notice_id, False)
        previous = work.previous_notice(session, year=year - 1)
        directory = load_directory(session)
        previous_spec = documents.spec_of(previous)
    office = issuer_office(directory, previous.issuers[0])
    spec, notes = next_year_notice(
        previous_spec,
        year=year,
        plans_due=plans_due,
        office=office.short or office.name,
        national=national,
        local_codes={agency.code for agency in directory.agencies if agency.code},
    )
    document = work.draft_plan(
        db, year=year, spec=spec, drafter=drafter or previous.drafter, plans_due=plans_due, warnings=notes
    )
    return PlanDraft(document.id, True, notes)


@dataclass(frozen=True)
class ChaseReport:
    """What 催办 did: the units reminded now, those whose reminder failed (why), and every unit's standing."""

    reminded: list[str]
    failed: dict[str, str]
    returns: list[work.PlanReturn]


def chase_plans(
    db: Database, channel: Channel, *, year: int, at: dt.date, every: dt.timedelta, options: MailOptions
) -> ChaseReport:
    """催办 each unit whose annual plan is overdue and was not reminded within ``every``."""
    with db.transaction() as session:
        context = work.year_context(session, year=year)
        returns = work.plan_returns(session, year=year, at=at)
    notice = context.notice
    head = Letterhead(
        ref=notice.ref or str(notice.id), title=notice.title, issuer=context.office.name, sender=options.sender
    )
    office = context.office.short or context.office.name
    reminded, failed = [], {}
    for plan in returns:
        if not chase_due(
            due=plan.due, received=plan.received_on is not None, last_reminded=plan.last_reminded, at=at, every=every
        ):
            continue
        agency = context.directory.agency(plan.sender)
        error = None if agency.email else "目录中没有电子邮件地址"
        if agency.email:
            to = Recipient(agency.name, agency.email, (RecipientRole.TO,))
            message = plan_reminder_message(head, to, due=plan.due, office=office, count=plan.reminders + 1)
            attempted = send_with_retries(channel, message, options)
            error = attempted.error.message if attempted.error else None
        work.record_reminder(
            db, year=year, sender=agency.name, address=agency.email or "", on=at, error=error, notice_id=notice.id
        )
        if error is None:
            reminded.append(agency.name)
        else:
            failed[agency.name] = error
    with db.transaction() as session:
        return ChaseReport(reminded, failed, work.plan_returns(session, year=year, at=at))


@dataclass(frozen=True)
class CircularDraft:
    """A quarter's 通报: the draft's id, whether this call drafted it, its figures (ranked) and chart."""

    document_id: int
    created: bool
    figures: list[dict]
    chart: bytes | None


def draft_quarterly_circular(
    db: Database, *, year: int, quarter: int, at: dt.date, drafter: str | None = None
) -> CircularDraft:
    """拟稿 of the 季度通报 of 工作信息 once the quarter has come to its last day."""
    start, end = quarter_span(year, quarter)
    with db.transaction() as session:
        existing = work.find_circular(session, year=year, quarter=quarter)
        if existing is not None:
            return CircularDraft(existing.document_id, False, existing.figures, existing.chart)
        if at < end:
            raise InputError(f"{year}年{QUARTERS[quarter]}到 {end} 才结束，届时再通报", "quarter")
        context = work.year_context(session, year=year)
        reports = work.reports_touching(session, start=start, end=end)
        notice = documents.spec_of(context.notice)
    names = {unit.name: display_name(unit) for unit in context.units}
    ranked = rank(count_quarter(reports, list(names), year, quarter))
    spec = circular_spec(
        notice=notice,
        office=context.office.short or context.office.name,
        year=year,
        quarter=quarter,
        ranked=ranked,
        names=names,
        adopted=adopted_in(reports, list(names), year, quarter),
    )
    figures = [
        {
            "rank": r.rank,
            "unit": r.counts.unit,
            "name": names[r.counts.unit],
            **dict(zip(SERIES, figures_of(r.counts), strict=True)),
        }
        for r in ranked
    ]
    chart = figures_chart(
        f"{year}年{QUARTERS[quarter]}工作信息报送情况",
        [f["name"] for f in figures],
        {series: [f[series] for f in figures] for series in SERIES},
    )
    row = work.draft_circular(
        db,
        year=year,
        quarter=quarter,
        spec=spec,
        drafter=drafter or context.notice.drafter,
        figures=figures,
        chart=chart,
    )
    return CircularDraft(row.document_id, True, row.figures, row.chart)


def assessment(db: Database, *, year: int, rules: AssessmentRules, at: dt.date) -> tuple[list[Score], dict[str, str]]:
    """考核 of the counties for ``year`` (models.work.assess); each county's name as tables write it."""
    with db.transaction() as session:
        context = work.year_context(session, year=year)
        reports = work.reports_of_year(session, year=year)
        received = {
            plan.sender: plan.received_on for plan in work.plan_returns(session, year=year, at=at) if plan.received_on
        }
    names = {c.name: display_name(c) for c in counties(context.directory, context.notice.issuers[0], context.units)}
    scores = assess(list(names), reports, received, year=year, due=context.year.plans_due, rules=rules, at=at)
    return scores, names
