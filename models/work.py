"""年度打击侵权假冒宣传工作: the year the seed notice 汴打假〔2022〕3号 sets out, as pure rules.

The seed's 实施方案 (第11–13条 and its last paragraph) describes the work of a year:

- 各县（区）各部门 …… 根据本辖区本部门工作实际制定年度宣传方案: every unit the 印发
  notice is addressed to (its 主送, expanded through the directory: ``reporting_units``)
  sends its own plan back; the city office registers each as 收文 (签收, 登记 with a
  收文编号) and 催办 those still missing after the due date the notice gives
  (``plan_standing``, ``chase_due``);
- 各县（区）各部门要加强工作信息报送 …… 市领导小组办公室每季度通报信息报送情况: units
  report 工作信息 (``ReportInput``, ``check_report``); the office 推送 the best to the
  province (``Outcome.FORWARDED``), which may use them in its 工作简报 and pass them on to
  中国打击侵权假冒工作网 (``Outcome.PROVINCE``, ``Outcome.NATIONAL``, ``check_outcome``);
  each quarter's counts per unit are ranked (``count_quarter``, ``rank``) for the 通报,
  which 通报表扬 the adopted reports;
- 市领导小组办公室也将对各县（区）宣传成效进行考核: the year's score of each county from
  configurable weights (``AssessmentRules``, ``assess``).

The 县（区） are the reporting units subordinate to the notice's issuer (the county leading
groups under the city leading group: ``counties``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.directory import Agency, Directory
from models.errors import InputError, NotAllowed
from models.spec import IsoDate
from models.validation import clean_text, input_error

#: 季度 names, as a 通报 writes them.
QUARTERS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
#: What a county leading group's name ends with; its 简称 in a table is what comes before.
_GROUP_SUFFIX = "打击侵权假冒工作领导小组"


def quarter_of(day: dt.date) -> int:
    """季度 (1–4) of a day."""
    return (day.month - 1) // 3 + 1


def quarter_span(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First and last day of a 季度."""
    if quarter not in QUARTERS:
        raise InputError("季度应为 1、2、3 或 4", "quarter")
    start = dt.date(year, 3 * quarter - 2, 1)
    following = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, following - dt.timedelta(days=1)


def _within(day: dt.date | None, span: tuple[dt.date, dt.date]) -> bool:
    return day is not None and span[0] <= day <= span[1]


class ReportChannel(StrEnum):
    """报送渠道 of a 工作信息."""

    EMAIL = "电子邮件"
    INTRANET = "政务内网"
    EXCHANGE = "公文交换系统"
    FAX = "传真"
    PAPER = "纸质材料"


class Outcome(StrEnum):
    """What became of a 工作信息: 推送 by the city office, 采用 by the province or the national site.

    ``label`` is its column in a 统计表, ``where`` who did it in full, ``column`` the
    ``work_reports`` column holding the day it happened.
    """

    FORWARDED = "forwarded"
    PROVINCE = "province"
    NATIONAL = "national"

    @property
    def label(self) -> str:
        return _OUTCOME_TEXT[self][0]

    @property
    def where(self) -> str:
        return _OUTCOME_TEXT[self][1]

    @property
    def column(self) -> str:
        return f"{self.value}_on"


_OUTCOME_TEXT = {
    Outcome.FORWARDED: ("推送省办", "市领导小组办公室推送省领导小组办公室"),
    Outcome.PROVINCE: ("省简报采用", "省领导小组办公室工作简报"),
    Outcome.NATIONAL: ("国家网站采用", "中国打击侵权假冒工作网"),
}


class ReportFacts(Protocol):
    """A recorded 工作信息 as the counting rules read it (``models.tables.WorkReport``)."""

    unit: str
    title: str
    reported_on: dt.date
    forwarded_on: dt.date | None
    province_on: dt.date | None
    national_on: dt.date | None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportInput(_Strict):
    """工作信息 as the office records it: 报送单位, 标题, 报送日期, 报送渠道, for the 年度 ``year``."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    unit: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    date: IsoDate
    channel: ReportChannel


def parse_report(data: dict) -> ReportInput:
    """Validate raw report data; InputError naming the field."""
    cleaned, _ = clean_text(data)
    cleaned = {key: value.strip() if isinstance(value, str) else value for key, value in cleaned.items()}
    try:
        return ReportInput.model_validate(cleaned)
    except ValidationError as exc:
        raise input_error(exc) from None


def reporting_units(directory: Directory, to: list[str]) -> list[Agency]:
    """The units that send plans and 工作信息: the 印发 notice's 主送, expanded to agencies, once each."""
    found: dict[str, Agency] = {}
    for i, name in enumerate(to):
        for item in directory.expand(name, f"to[{i}]"):
            if isinstance(item, Agency):
                found.setdefault(item.name, item)
    return list(found.values())


def counties(directory: Directory, issuer: str, units: list[Agency]) -> list[Agency]:
    """各县（区）: the reporting units subordinate to the notice's issuer."""
    top = directory.agency(issuer, "issuer")
    return [unit for unit in units if directory.is_subordinate(unit, top)]


def display_name(agency: Agency) -> str:
    """A unit's name in a table: its 简称, else its name without 打击侵权假冒工作领导小组 (杞县)."""
    if agency.short:
        return agency.short
    return agency.name.removesuffix(_GROUP_SUFFIX) or agency.name


def check_report(report: ReportInput, directory: Directory, units: list[Agency], *, today: dt.date) -> str:
    """工作信息 rules; the reporting unit's full name.

    The unit is in the directory and among the year's reporting units; the 报送日期 lies
    in the 年度 and not after today.
    """
    agency = directory.agency(report.unit, "unit")
    if agency.name not in {unit.name for unit in units}:
        raise InputError(f"「{agency.name}」不是{report.year}年度报送工作信息的成员单位或县（区）", "unit")
    if report.date.year != report.year:
        raise InputError(f"报送日期 {report.date} 不在 {report.year} 年度内", "date")
    if report.date > today:
        raise InputError(f"报送日期 {report.date} 晚于今天（{today}）", "date")
    return agency.name


def check_outcome(report: ReportFacts, outcome: Outcome, on: dt.date, *, today: dt.date) -> None:
    """推送 and 采用 rules: once each; 采用 only of a report the office 推送 to the province
    (the province chooses from what the cities send); never before the step it follows."""
    done = getattr(report, outcome.column)
    if done is not None:
        raise NotAllowed(f"《{report.title}》已于 {done} {outcome.label}", "outcome")
    if on > today:
        raise InputError(f"日期 {on} 晚于今天（{today}）", "on")
    before = report.reported_on if outcome is Outcome.FORWARDED else report.forwarded_on
    if before is None:
        raise NotAllowed(f"《{report.title}》尚未推送省领导小组办公室，不能被{outcome.where}采用", "outcome")
    if on < before:
        step = "报送" if outcome is Outcome.FORWARDED else "推送"
        raise InputError(f"日期 {on} 早于{step}日期 {before}", "on")


# -- 季度通报 ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitCounts:
    """One unit's figures: 报送, 推送省办, 省简报采用, 国家网站采用."""

    unit: str
    submitted: int = 0
    forwarded: int = 0
    province: int = 0
    national: int = 0

    def key(self) -> tuple[int, int, int, int]:
        """Ranking order: national adoptions first, then provincial, forwarded, submitted."""
        return self.national, self.province, self.forwarded, self.submitted


@dataclass(frozen=True)
class Ranked:
    """A unit's place (名次; equal figures share it) and its figures."""

    rank: int
    counts: UnitCounts


_STEPS = ("submitted", "forwarded", "province", "national")


def _tally(
    reports: Iterable[ReportFacts], units: list[str], counts: Callable[[ReportFacts, dt.date | None], bool]
) -> dict[str, list[int]]:
    """Per unit, how many of its reports ``counts`` for each step (报送, 推送, 省简报, 国家网站),
    given the report and the day it reached that step (None: not reached)."""
    tally = {unit: [0] * len(_STEPS) for unit in units}
    for report in reports:
        if report.unit in tally:
            days = (report.reported_on, report.forwarded_on, report.province_on, report.national_on)
            for i, day in enumerate(days):
                tally[report.unit][i] += counts(report, day)
    return tally


def count_quarter(reports: Iterable[ReportFacts], units: list[str], year: int, quarter: int) -> list[UnitCounts]:
    """Each unit's figures for a 季度: reports dated in it, and 推送 and 采用 that happened in it
    (an adoption after the quarter's end counts in the quarter it happened: each appears in
    exactly one 通报)."""
    span = quarter_span(year, quarter)
    tally = _tally(reports, units, lambda _report, day: _within(day, span))
    return [UnitCounts(unit, *figures) for unit, figures in tally.items()]


def rank(items: list[UnitCounts], key=UnitCounts.key) -> list[Ranked]:
    """Units in order, best first (``key``, highest first); equal keys share a 名次 (1, 2, 2, 4)."""
    ordered = sorted(items, key=key, reverse=True)
    ranked: list[Ranked] = []
    for position, counts in enumerate(ordered, start=1):
        same = ranked and key(ranked[-1].counts) == key(counts)
        ranked.append(Ranked(ranked[-1].rank if same else position, counts))
    return ranked


def totals(items: Iterable[UnitCounts]) -> UnitCounts:
    """合计 of several units' figures."""
    items = list(items)
    return UnitCounts(
        "合计",
        sum(c.submitted for c in items),
        sum(c.forwarded for c in items),
        sum(c.province for c in items),
        sum(c.national for c in items),
    )


def adopted_in(
    reports: Iterable[ReportFacts], units: list[str], year: int, quarter: int
) -> list[tuple[ReportFacts, list[Outcome]]]:
    """The reports adopted in a 季度 (省简报 or 国家网站), with where: the 通报表扬 list."""
    span = quarter_span(year, quarter)
    found = []
    for report in reports:
        where = [o for o in (Outcome.PROVINCE, Outcome.NATIONAL) if _within(getattr(report, o.column), span)]
        if where and report.unit in units:
            found.append((report, where))
    return sorted(found, key=lambda item: (units.index(item[0].unit), item[0].reported_on, item[0].title))


# -- 年度方案报送 (收文, 催办) ----------------------------------------------------------------------
class PlanStanding(StrEnum):
    """Where a unit's annual plan stands against the due date."""

    ON_TIME = "按期报送"
    LATE = "逾期报送"
    MISSING = "逾期未报"
    WAITING = "尚未报送"


def plan_standing(due: dt.date, received_on: dt.date | None, at: dt.date) -> PlanStanding:
    """按期 / 逾期 when received (by the due date or after it); 逾期未报 or 尚未报送 when not, as of ``at``."""
    if received_on is not None:
        return PlanStanding.ON_TIME if received_on <= due else PlanStanding.LATE
    return PlanStanding.MISSING if at > due else PlanStanding.WAITING


def default_plans_due(year: int, today: dt.date, days: int = 45) -> dt.date:
    """The units' plans are due ``days`` after today, within ``year`` (not before its January 31)."""
    return min(max(today + dt.timedelta(days=days), dt.date(year, 1, 31)), dt.date(year, 12, 31))


def chase_due(*, due: dt.date, received: bool, last_reminded: dt.date | None, at: dt.date, every: dt.timedelta) -> bool:
    """催办 a missing plan: after its due date, then again each ``every`` after the last reminder."""
    if received or at <= due:
        return False
    return last_reminded is None or at - last_reminded >= every


# -- 考核 ------------------------------------------------------------------------------------
class AssessmentRules(_Strict):
    """考核 of the 县（区）: points per 工作信息 and for the annual plan (a YAML file, or a form)."""

    submitted: float = Field(default=1, ge=0, le=1000, title="每报送一条工作信息")
    forwarded: float = Field(default=2, ge=0, le=1000, title="每条推送省领导小组办公室")
    province: float = Field(default=5, ge=0, le=1000, title="每条被省领导小组办公室工作简报采用")
    national: float = Field(default=10, ge=0, le=1000, title="每条被中国打击侵权假冒工作网采用")
    plan_on_time: float = Field(default=10, ge=-1000, le=1000, title="按期报送年度宣传方案")
    plan_late: float = Field(default=5, ge=-1000, le=1000, title="逾期报送年度宣传方案")
    plan_missing: float = Field(default=0, ge=-1000, le=1000, title="未报送年度宣传方案")

    def plan_points(self, standing: PlanStanding) -> float:
        return {
            PlanStanding.ON_TIME: self.plan_on_time,
            PlanStanding.LATE: self.plan_late,
            PlanStanding.MISSING: self.plan_missing,
            PlanStanding.WAITING: 0.0,
        }[standing]


def parse_rules(data: object) -> AssessmentRules:
    """考核 rules from YAML data; InputError naming the field."""
    if not isinstance(data, dict):
        raise InputError("考核规则应为映射（键: 值）", "（根）")
    try:
        return AssessmentRules.model_validate(data)
    except ValidationError as exc:
        raise input_error(exc) from None


@dataclass(frozen=True)
class Score:
    """A county's 考核 result: 名次, figures of the year, its plan, points."""

    rank: int
    counts: UnitCounts
    plan: PlanStanding
    points: float
    parts: dict[str, float] = field(default_factory=dict)


def assess(
    names: list[str],
    reports: Iterable[ReportFacts],
    plans: dict[str, dt.date],
    *,
    year: int,
    due: dt.date,
    rules: AssessmentRules,
    at: dt.date,
) -> list[Score]:
    """Each county's points for ``year``: its reports dated in the year, each counted once for
    being reported and once more for each step it reached (推送, 省简报, 国家网站, whenever that
    happened), plus the points of its annual plan (received by ``due``, late, or missing as of
    ``at``); highest first, equal points sharing a 名次."""
    tally = _tally(reports, names, lambda report, day: report.reported_on.year == year and day is not None)
    weights = (rules.submitted, rules.forwarded, rules.province, rules.national)
    counted: dict[str, tuple[UnitCounts, PlanStanding, dict[str, float]]] = {}
    for name, figures in tally.items():
        standing = plan_standing(due, plans.get(name), at)
        parts = {step: n * w for step, n, w in zip(_STEPS, figures, weights, strict=True)}
        parts["plan"] = rules.plan_points(standing)
        counted[name] = (UnitCounts(name, *figures), standing, parts)

    def points(counts: UnitCounts) -> float:
        return sum(counted[counts.unit][2].values())

    return [
        Score(r.rank, r.counts, counted[r.counts.unit][1], points(r.counts), counted[r.counts.unit][2])
        for r in rank([counts for counts, _, _ in counted.values()], key=points)
    ]


SCORE_COLUMNS = ("名次", "县（区）", "报送信息", "推送省办", "省简报采用", "国家网站采用", "年度方案", "得分")


def points_text(points: float) -> str:
    """Points as people write them: 27, 27.5."""
    return f"{points:g}"


def score_rows(scores: list[Score], names: dict[str, str]) -> list[dict[str, str | int]]:
    """The 考核 table (its SCORE_COLUMNS), one row per county, best first."""
    return [
        dict(
            zip(
                SCORE_COLUMNS,
                (s.rank, names[s.counts.unit], *figures_of(s.counts), s.plan.value, points_text(s.points)),
                strict=True,
            )
        )
        for s in scores
    ]


def figures_of(counts: UnitCounts) -> tuple[int, int, int, int]:
    """报送, 推送省办, 省简报采用, 国家网站采用."""
    return counts.submitted, counts.forwarded, counts.province, counts.national
