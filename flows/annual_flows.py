"""The flows of a year's 宣传工作 (models.work), each a deployment with its Run form in the Prefect UI.

- annual-plan (each January): 拟稿 of the year's 实施方案 and its 印发 notice from last
  year's, then 送审 by starting its document-lifecycle run;
- receive-plan: 收文 of a unit's own plan (签收, 登记 with a 收文编号); chase-plans (every
  morning): 催办 of the plans overdue. Both show who has sent theirs;
- submit-work-info: a unit's 工作信息; mark-work-info: its 推送 by the office, its 采用 by the
  province's 工作简报 or 中国打击侵权假冒工作网;
- quarterly-circular (each quarter's last day): 拟稿 of the 季度通报 with its 统计表, the
  chart of the figures, then 送审;
- assess-counties: the counties' 考核 for a year, weights on the form.

Flows pass ids; each step is a task over actions.annual_work / storage.work, which are
idempotent where a retry could repeat them (a year has one notice, a quarter one 通报;
the lifecycle run is started only for a draft no run carries). ``submit=False`` leaves
the draft for a person to 送审.

Parameter types are objects here, not strings (no ``from __future__ import annotations``): gongwen
server sends the flow to its run's process with cloudpickle, which keeps only the globals the
function's code uses (flows.run_processes).
"""

import datetime as dt
from typing import Literal

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment

from actions import annual_work, work_records
from flows import artifacts, work_artifacts
from flows.runtime import services
from flows.served_names import LIFECYCLE
from flows.starts import started_by_if_any
from models.lifecycle import State
from models.work import (
    AssessmentRules,
    Outcome,
    ReportChannel,
    default_plans_due,
    parse_report,
    quarter_of,
    score_rows,
)
from models.work_drafts import NationalNotice
from storage import documents, transitions, work

_OUTCOMES = {outcome.label: outcome for outcome in Outcome}


def _this_year() -> int:
    return transitions.today().year


@task(name="送审", cache_policy=NO_CACHE)
def start_lifecycle(document_id: int) -> str | None:
    """Start the draft's document-lifecycle run, unless it is no longer a draft or a run carries it."""
    with services().db.transaction() as session:
        document = documents.get(session, document_id=document_id)
    if document.state != State.DRAFT.value or document.flow_run_id:
        return None
    run = run_deployment(LIFECYCLE, parameters={"document_id": document_id}, timeout=0, as_subflow=False)
    return str(run.id)


def _show_draft(document_id: int) -> None:
    with services().db.transaction() as session:
        artifacts.preview(documents.get(session, document_id=document_id))


@task(name="拟稿年度方案", cache_policy=NO_CACHE)
def draft_plan(year: int, plans_due: dt.date, national: NationalNotice | None, drafter: str | None) -> dict:
    drafted = annual_work.draft_annual_plan(
        services().db, year=year, plans_due=plans_due, national=national, drafter=drafter
    )
    return {"id": drafted.document_id, "created": drafted.created, "notes": drafted.notes}


@flow(name="annual-plan", persist_result=True)
def annual_plan(
    year: int | None = None,
    national_title: str | None = None,
    national_ref: str | None = None,
    plans_due: dt.date | None = None,
    drafter: str | None = None,
    submit: bool = True,
) -> dict:
    """拟稿 of the year's 实施方案 and its 印发 notice from last year's, then 送审.

    Args:
        year: 年度（默认今年）
        national_title: 全国打击侵权假冒工作领导小组办公室通知的标题，如 关于做好2023年打击侵权假冒宣传工作的通知
        national_ref: 该通知的发文字号，如 打假办发〔2023〕1号（未给出时方案中标注“文号待补”）
        plans_due: 各成员单位、各县（区）报送年度方案的期限（默认 45 天后）
        drafter: 拟稿人（默认上一年度通知的拟稿人）
        submit: 起草后立即送审
    """
    year = year or _this_year()
    national = None
    if national_title or national_ref:
        national = NationalNotice(title=national_title or "", ref=national_ref or "")
    due = plans_due or default_plans_due(year, transitions.today())
    drafted = draft_plan(year, due, national, drafter)
    _show_draft(drafted["id"])
    run = start_lifecycle(drafted["id"]) if submit else None
    return {**drafted, "year": year, "lifecycle_run": run}


@flow(name="receive-plan", persist_result=True)
def receive_plan(
    sender: str,
    year: int | None = None,
    received_on: dt.date | None = None,
    title: str | None = None,
) -> dict:
    """收文: 签收 and 登记 of a unit's annual 宣传工作方案 with a 收文编号; who has sent theirs, as a table.

    Args:
        sender: 来文单位（通知主送的成员单位或县（区））
        year: 年度（默认今年）
        received_on: 收文日期（默认今天）
        title: 来文标题（默认「单位+年度+宣传工作方案」）
    """
    year = year or _this_year()
    row = register_plan(year, sender, received_on or transitions.today(), title)
    show_returns(year)
    return row


@task(name="收文登记", cache_policy=NO_CACHE)
def register_plan(year: int, sender: str, received_on: dt.date, title: str | None) -> dict:
    """The 登记人 is whoever started the run at the 门户 (flows.starts)."""
    row = work_records.receive_plan(
        services().db,
        year=year,
        sender=sender,
        received_on=received_on,
        title=title,
        by=started_by_if_any("plan_received_refused"),
        today=transitions.today(),
    )
    return {"number": row.number, "sender": row.sender, "received_on": str(row.received_on)}


def show_returns(year: int) -> list[work.PlanReturn]:
    with services().db.transaction() as session:
        returns = work.plan_returns(session, year=year, at=transitions.today())
    work_artifacts.returns_table(year, returns)
    return returns


@flow(name="chase-plans", persist_result=True)
def chase_plans(year: int | None = None) -> dict:
    """催办 of the annual plans not received by the notice's due date; who has sent theirs, as a table.

    Without a year (the daily schedule) a year whose notice is not yet drafted is skipped.

    Args:
        year: 年度（默认今年）
    """
    if year is None:
        with services().db.transaction() as session:
            if work.find_year(session, year=_this_year()) is None:
                return {"skipped": f"{_this_year()} 年度还没有印发实施方案的通知"}
    year = year or _this_year()
    report = chase(year)
    work_artifacts.returns_table(year, report.returns)
    return {"reminded": report.reminded, "failed": report.failed}


@task(name="催办", cache_policy=NO_CACHE)
def chase(year: int) -> annual_work.ChaseReport:
    s = services()
    channel = s.open_channel()
    try:
        return annual_work.chase_plans(
            s.db, channel, year=year, at=transitions.today(), every=s.chase.remind_after, options=s.mail
        )
    finally:
        channel.close()


@flow(name="submit-work-info", persist_result=True)
def submit_work_info(
    unit: str,
    title: str,
    date: dt.date,
    channel: ReportChannel = ReportChannel.EMAIL,
    year: int | None = None,
) -> dict:
    """工作信息: record a unit's report (unit, title, date, channel) for the year's 通报 and 考核.

    Args:
        unit: 报送单位（成员单位或县（区））
        title: 信息标题
        date: 报送日期
        channel: 报送渠道
        year: 年度（默认报送日期所在年度）
    """
    data = {"year": year or date.year, "unit": unit, "title": title, "date": date, "channel": channel}
    report_id = record_report(data)
    show_reports(data["year"])
    return {"id": report_id}


@task(name="登记工作信息", cache_policy=NO_CACHE)
def record_report(data: dict) -> int:
    """The 登记人 is whoever started the run at the 门户 (flows.starts)."""
    report = parse_report(data)
    by = started_by_if_any("report_submitted_refused")
    row = work_records.submit_report(services().db, report=report, by=by, today=transitions.today())
    return row.id


def show_reports(year: int) -> None:
    with services().db.transaction() as session:
        work_artifacts.reports_table(year, work.reports_of_year(session, year=year))


@flow(name="mark-work-info", persist_result=True)
def mark_work_info(
    report_id: int,
    outcome: Literal["推送省办", "省简报采用", "国家网站采用"],
    on: dt.date | None = None,
) -> dict:
    """推送 of a 工作信息 to the province by the office, or its 采用 by 省领导小组办公室工作简报 or
    中国打击侵权假冒工作网 (only of one the office forwarded).

    Args:
        report_id: 工作信息编号
        outcome: 推送省办（市领导小组办公室推送省领导小组办公室）、省简报采用、国家网站采用
        on: 日期（默认今天）
    """
    year = mark(report_id, outcome, on or transitions.today())
    show_reports(year)
    return {"id": report_id, "outcome": _OUTCOMES[outcome].value}


@task(name="推送或采用", cache_policy=NO_CACHE)
def mark(report_id: int, outcome: str, on: dt.date) -> int:
    """The 登记人 is whoever started the run at the 门户 (flows.starts)."""
    by = started_by_if_any(f"report_{_OUTCOMES[outcome].value}_refused")
    row = work_records.mark_report(
        services().db, report_id=report_id, outcome=_OUTCOMES[outcome], on=on, by=by, today=transitions.today()
    )
    return row.year


@flow(name="quarterly-circular", persist_result=True)
def quarterly_circular(
    year: int | None = None, quarter: int | None = None, drafter: str | None = None, submit: bool = True
) -> dict:
    """拟稿 of the 季度通报 of 工作信息 (figures ranked, 通报表扬, 统计表), its chart, then 送审.

    Args:
        year: 年度（默认今天所在季度的年度）
        quarter: 季度 1–4（默认今天所在季度）
        drafter: 拟稿人（默认当年通知的拟稿人）
        submit: 起草后立即送审
    """
    today = transitions.today()
    year, quarter = year or today.year, quarter or quarter_of(today)
    drafted = draft_circular(year, quarter, drafter)
    figures, png = show_circular(year, quarter)
    run = start_lifecycle(drafted["id"]) if submit else None
    return {
        **drafted,
        "year": year,
        "quarter": quarter,
        "units": len(figures),
        "chart_bytes": len(png or b""),
        "lifecycle_run": run,
    }


@task(name="拟稿季度通报", cache_policy=NO_CACHE)
def draft_circular(year: int, quarter: int, drafter: str | None) -> dict:
    drafted = annual_work.draft_quarterly_circular(
        services().db, year=year, quarter=quarter, at=transitions.today(), drafter=drafter
    )
    return {"id": drafted.document_id, "created": drafted.created}


def show_circular(year: int, quarter: int) -> tuple[list[dict], bytes | None]:
    """The draft's 要素, its figures and its chart."""
    with services().db.transaction() as session:
        row = work.find_circular(session, year=year, quarter=quarter)
    _show_draft(row.document_id)
    work_artifacts.figures_table(year, quarter, row.figures)
    if row.chart:
        work_artifacts.chart(year, quarter, row.chart)
    return row.figures, row.chart


@flow(name="assess-counties", persist_result=True)
def assess_counties(year: int, rules: AssessmentRules = AssessmentRules()) -> list[dict]:
    """考核 of the counties' 宣传成效 for a year: points for 工作信息 and the annual plan, ranked.

    Args:
        year: 年度
        rules: 考核规则：每条工作信息报送、推送、省简报采用、国家网站采用的分值，年度方案按期、逾期、未报的分值
    """
    scores, names = annual_work.assessment(services().db, year=year, rules=rules, at=transitions.today())
    rows = score_rows(scores, names)
    work_artifacts.scores_table(year, rows)
    return rows
