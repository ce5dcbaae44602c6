"""The bodies of the 年度宣传工作 commands (``plan``, ``receive``, ``info``, ``circular``, ``assess``).

The same steps as the flows of flows.annual_flows, applied directly (no Prefect server
needed): a document they draft is 送审 with ``gongwen submit``. Input is validated
before anything is written; a refused step writes nothing (exit 2, or 3 when it is not
allowed now).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from actions import annual_work, work_records
from doc_templates import print_document
from gongwen.files import read_yaml
from models.errors import InputError
from models.identity import Credentials
from models.work import (
    QUARTERS,
    SCORE_COLUMNS,
    AssessmentRules,
    Outcome,
    default_plans_due,
    parse_report,
    parse_rules,
    score_rows,
)
from models.work_drafts import NationalNotice
from storage import documents, transitions, work
from storage.directory_store import load_directory

_BY = {"province": Outcome.PROVINCE, "national": Outcome.NATIONAL}


def plan_draft(ctx, year: int, due: dt.date | None, title: str | None, ref: str | None, name: str | None) -> None:
    national = NationalNotice(title=title or "", ref=ref or "") if (title or ref) else None
    plans_due = due or default_plans_due(year, transitions.today())
    drafted = annual_work.draft_annual_plan(ctx.app.db, year=year, plans_due=plans_due, national=national, drafter=name)
    with ctx.app.db.transaction() as session:
        document = documents.get(session, document_id=drafted.document_id)
    for note in drafted.notes:
        ctx.out.note(f"提示：{note}")
    verb = "已拟稿" if drafted.created else "已有"
    ctx.out.done(
        {"id": document.id, "created": drafted.created, "title": document.title, "notes": drafted.notes},
        f"{year} 年度{verb}印发通知，公文编号 {document.id}：{document.title}（gongwen submit {document.id} 送审）",
    )


def plan_open(ctx, year: int, notice: str, due: dt.date, name: Credentials | None) -> None:
    with ctx.app.db.transaction() as session:
        document = _notice(session, notice)
    row = work_records.open_year(ctx.app.db, year=year, notice_id=document.id, plans_due=due, by=name)
    ctx.out.done(
        {"year": row.year, "notice_id": row.notice_id, "plans_due": row.plans_due},
        f"{year} 年度的印发通知：公文 {row.notice_id}《{document.title}》，方案报送期限 {row.plans_due}",
    )


def _notice(session, value: str):
    if value.isdigit():
        return documents.get(session, document_id=int(value))
    return documents.find_by_ref(session, ref=value)


def receive_plan(
    ctx, sender: str, year: int | None, on: dt.date | None, title: str | None, name: Credentials | None
) -> None:
    today = transitions.today()
    year = year or (on or today).year
    row = work_records.receive_plan(
        ctx.app.db, year=year, sender=sender, received_on=on or today, title=title, by=name, today=today
    )
    with ctx.app.db.transaction() as session:
        standing = next(r.standing for r in work.plan_returns(session, year=year, at=today) if r.sender == row.sender)
    ctx.out.done(
        {"number": row.number, "sender": row.sender, "received_on": row.received_on, "standing": standing.value},
        f"已签收登记：{row.number}　{row.sender}《{row.title}》，{row.received_on} 收文，{standing.value}",
    )


def _returns_data(returns: list[work.PlanReturn]) -> list[dict]:
    return [
        {
            "sender": r.sender,
            "due": r.due,
            "received_on": r.received_on,
            "number": r.number,
            "standing": r.standing.value,
            "reminders": r.reminders,
        }
        for r in returns
    ]


def _returns_text(returns: list[work.PlanReturn]) -> list[str]:
    return [
        f"  {r.sender}：{r.standing.value}"
        + (f"（{r.received_on}，{r.number}）" if r.number else "")
        + (f"，已催办 {r.reminders} 次" if r.reminders else "")
        for r in returns
    ]


def receive_status(ctx, year: int, at: dt.date | None) -> None:
    with ctx.app.db.transaction() as session:
        returns = work.plan_returns(session, year=year, at=at or transitions.today())
    done = sum(1 for r in returns if r.received_on)
    ctx.out.done(
        {"year": year, "received": done, "expected": len(returns), "returns": _returns_data(returns)},
        "\n".join([f"{year} 年度宣传工作方案：已报 {done}/{len(returns)}", *_returns_text(returns)]),
    )


def receive_chase(ctx, year: int, at: dt.date | None) -> None:
    app = ctx.app
    channel = app.mail_channel
    try:
        report = annual_work.chase_plans(
            app.db,
            channel,
            year=year,
            at=at or transitions.today(),
            every=app.chase_policy.remind_after,
            options=app.mail_options,
        )
    finally:
        channel.close()
    ctx.out.done(
        {"reminded": report.reminded, "failed": report.failed, "returns": _returns_data(report.returns)},
        "\n".join(
            [
                f"催办：发出 {len(report.reminded)} 份" + (f"，失败 {len(report.failed)} 份" if report.failed else ""),
                *(f"  已催办：{name}" for name in report.reminded),
                *(f"  失败：{name}：{error}" for name, error in report.failed.items()),
            ]
        ),
    )


def info_submit(
    ctx, unit: str, title: str, date: str, channel: str, year: int | None, name: Credentials | None
) -> None:
    data = {"unit": unit, "title": title, "date": date, "channel": channel}
    if year is None:
        year = int(date[:4]) if date[:4].isdigit() else transitions.today().year
    report = parse_report({**data, "year": year})
    row = work_records.submit_report(ctx.app.db, report=report, by=name, today=transitions.today())
    ctx.out.done(
        {"id": row.id, "unit": row.unit, "title": row.title, "date": row.reported_on, "channel": row.channel},
        f"已登记工作信息 {row.id}：{row.unit}《{row.title}》（{row.reported_on}，{row.channel}）",
    )


def info_mark(ctx, report_id: int, outcome: Outcome, on: dt.date | None, name: Credentials | None) -> None:
    today = transitions.today()
    row = work_records.mark_report(
        ctx.app.db, report_id=report_id, outcome=outcome, on=on or today, by=name, today=today
    )
    day = getattr(row, outcome.column)
    ctx.out.done(
        {"id": row.id, "outcome": outcome.value, "on": day},
        f"工作信息 {row.id}《{row.title}》：{day} {outcome.label}",
    )


def info_adopt(ctx, report_id: int, by: str, on: dt.date | None, name: Credentials | None) -> None:
    info_mark(ctx, report_id, _BY[by], on, name)


def info_list(ctx, year: int) -> None:
    with ctx.app.db.transaction() as session:
        reports = work.reports_of_year(session, year=year)
    rows = [
        {
            "id": r.id,
            "unit": r.unit,
            "title": r.title,
            "date": r.reported_on,
            "channel": r.channel,
            **{o.value: getattr(r, o.column) for o in Outcome},
        }
        for r in reports
    ]
    lines = [
        f"  {r.id} {r.reported_on} {r.unit}《{r.title}》"
        + "".join(f"　{o.label} {getattr(r, o.column)}" for o in Outcome if getattr(r, o.column))
        for r in reports
    ]
    ctx.out.done({"year": year, "reports": rows}, "\n".join([f"{year} 年度工作信息 {len(rows)} 条", *lines]))


def circular(ctx, year: int, quarter: int, at: dt.date | None, name: str | None, out_dir: Path | None) -> None:
    drafted = annual_work.draft_quarterly_circular(
        ctx.app.db, year=year, quarter=quarter, at=at or transitions.today(), drafter=name
    )
    folder = out_dir or ctx.app.settings.home / "circulars" / f"{year}-Q{quarter}"
    folder.mkdir(parents=True, exist_ok=True)
    with ctx.app.db.transaction() as session:
        document = documents.get(session, document_id=drafted.document_id)
        spec, directory = documents.spec_of(document), load_directory(session)
    docx = print_document(spec, directory, ref=None, out_docx=folder / "draft.docx").docx
    chart = folder / "chart.png"
    if drafted.chart:
        chart.write_bytes(drafted.chart)
    ctx.out.done(
        {
            "id": document.id,
            "created": drafted.created,
            "title": document.title,
            "figures": drafted.figures,
            "docx": str(docx),
            "chart": str(chart) if drafted.chart else None,
        },
        f"{year}年{QUARTERS[quarter]}通报{'已拟稿' if drafted.created else '已有'}，公文编号 {document.id}："
        f"{document.title}\n{docx}\n{chart}",
    )


def read_rules(path: Path | None) -> AssessmentRules:
    """考核 rules from a YAML file (every key optional), or the defaults."""
    return parse_rules(read_yaml(path, "--rules")) if path is not None else AssessmentRules()


def assess(ctx, year: int, out: Path, rules_file: Path | None, at: dt.date | None) -> None:
    rules = read_rules(rules_file)
    if out.suffix.lower() != ".csv":
        raise InputError("输出文件应为 .csv", "-o")
    scores, names = annual_work.assessment(ctx.app.db, year=year, rules=rules, at=at or transitions.today())
    rows = score_rows(scores, names)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(scores_csv(rows), encoding="utf-8-sig")
    ctx.out.done(
        {"year": year, "file": str(out), "rules": rules.model_dump(), "rows": rows},
        "\n".join(
            [f"{year} 年度各县（区）宣传成效考核（{out}）：", *("  " + "　".join(map(str, r.values())) for r in rows)]
        ),
    )


def scores_csv(rows: list[dict]) -> str:
    """The 考核 table as CSV (opened with a BOM so spreadsheet programs read the Chinese)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SCORE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
