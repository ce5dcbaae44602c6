"""What the 年度宣传工作 runs show on their Artifacts tab: tables, and the quarter's chart.

- ``returns_table``: who has sent the annual plan (收文日期, 收文编号, 按期 / 逾期 / 未报, 催办);
- ``reports_table``: the year's 工作信息 and what became of them;
- ``figures_table`` and ``chart``: a 季度通报's ranked figures, and their bar chart (the PNG
  embedded in markdown as a data URI, so the UI shows it without another request);
- ``scores_table``: the counties' 考核.

Keys name the year (``plans-2023``, ``circular-2023-q1-chart``) so the UI keeps each one's history.
"""

from __future__ import annotations

import base64

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from models.work import QUARTERS, Outcome
from storage.work import PlanReturn


def _day(value: object) -> str:
    return str(value) if value else ""


def returns_table(year: int, returns: list[PlanReturn]) -> None:
    """年度方案报送情况: one row per unit the notice expects a plan from."""
    rows = [
        {
            "单位": r.sender,
            "报送期限": str(r.due),
            "收文日期": _day(r.received_on),
            "收文编号": r.number or "",
            "状态": r.standing.value,
            "催办次数": r.reminders,
        }
        for r in returns
    ]
    done = sum(1 for r in returns if r.received_on)
    create_table_artifact(
        key=f"plans-{year}", table=rows, description=f"{year}年度宣传工作方案报送情况：已报 {done}/{len(returns)}"
    )


def reports_table(year: int, reports: list) -> None:
    """The year's 工作信息: unit, title, date, channel, 推送 and 采用."""
    rows = [
        {
            "编号": r.id,
            "单位": r.unit,
            "标题": r.title,
            "报送日期": str(r.reported_on),
            "渠道": r.channel,
            **{o.label: _day(getattr(r, o.column)) for o in Outcome},
        }
        for r in reports
    ]
    create_table_artifact(key=f"work-reports-{year}", table=rows, description=f"{year}年度工作信息")


def _season(year: int, quarter: int) -> str:
    return f"{year}年{QUARTERS[quarter]}"


def figures_table(year: int, quarter: int, figures: list[dict]) -> None:
    """A 季度通报's figures per unit, ranked."""
    rows = [
        {"名次": f["rank"], "单位": f["name"], **{k: v for k, v in f.items() if k not in ("rank", "unit", "name")}}
        for f in figures
    ]
    create_table_artifact(
        key=f"circular-{year}-q{quarter}-figures", table=rows, description=f"{_season(year, quarter)}工作信息报送情况"
    )


def chart(year: int, quarter: int, png: bytes) -> None:
    """The quarter's figures as a bar chart, embedded as a data URI."""
    data = base64.b64encode(png).decode("ascii")
    title = f"{_season(year, quarter)}工作信息报送情况"
    create_markdown_artifact(
        key=f"circular-{year}-q{quarter}-chart",
        markdown=f"# {title}\n\n![{title}](data:image/png;base64,{data})\n",
        description=f"{title}（图）",
    )


def scores_table(year: int, rows: list[dict]) -> None:
    """各县（区）考核."""
    create_table_artifact(key=f"assessment-{year}", table=rows, description=f"{year}年度各县（区）宣传成效考核")
