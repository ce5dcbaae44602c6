"""The pure rules of a year's 宣传工作 (models.work, models.work_drafts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from models.errors import InputError, NotAllowed
from models.work import (
    AssessmentRules,
    Outcome,
    PlanStanding,
    UnitCounts,
    adopted_in,
    assess,
    chase_due,
    check_outcome,
    check_report,
    count_quarter,
    counties,
    default_plans_due,
    display_name,
    parse_report,
    parse_rules,
    plan_standing,
    quarter_of,
    quarter_span,
    rank,
    reporting_units,
)
from models.work_drafts import PENDING_REF, NationalNotice, circular_spec, next_year_notice, roll_year

D = dt.date


@dataclass
class Report:
    unit: str
    title: str
    reported_on: dt.date
    forwarded_on: dt.date | None = None
    province_on: dt.date | None = None
    national_on: dt.date | None = None


@pytest.mark.parametrize(
    ("day", "quarter"), [(D(2023, 1, 1), 1), (D(2023, 3, 31), 1), (D(2023, 4, 1), 2), (D(2023, 12, 31), 4)]
)
def test_quarters(day, quarter):
    assert quarter_of(day) == quarter
    start, end = quarter_span(2023, quarter)
    assert start <= day <= end


def test_quarter_spans_and_a_fifth_quarter():
    assert quarter_span(2024, 1) == (D(2024, 1, 1), D(2024, 3, 31))
    assert quarter_span(2023, 4) == (D(2023, 10, 1), D(2023, 12, 31))
    with pytest.raises(InputError) as error:
        quarter_span(2023, 5)
    assert error.value.field == "quarter"


def test_reporting_units_are_the_notice_recipients_and_counties_those_under_its_issuer(kaifeng, notice):
    units = reporting_units(kaifeng, notice.to)
    assert len(units) == 20 and units[0].name == "中共开封市委宣传部"
    found = counties(kaifeng, notice.issuer[0], units)
    assert [display_name(c) for c in found] == [
        "杞县",
        "通许县",
        "尉氏县",
        "兰考县",
        "祥符区",
        "鼓楼区",
        "龙亭区",
        "顺河回族区",
        "禹王台区",
    ]
    assert display_name(units[1]) == "市市场监督管理局"  # its 简称


def _report(**changes):
    data = {"year": 2023, "unit": "市公安局", "title": "标题", "date": "2023-05-06", "channel": "电子邮件"} | changes
    return parse_report(data)


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"unit": "某某局"}, "unit", "目录中没有机关「某某局」"),
        ({"unit": "开封市人民政府"}, "unit", "不是2023年度报送工作信息的成员单位或县（区）"),
        ({"date": "2022-12-31"}, "date", "不在 2023 年度内"),
        ({"date": "2023-06-02"}, "date", "晚于今天"),
    ],
)
def test_report_rules(kaifeng, notice, changes, field, reason):
    units = reporting_units(kaifeng, notice.to)
    with pytest.raises(InputError) as error:
        check_report(_report(**changes), kaifeng, units, today=D(2023, 6, 1))
    assert (error.value.field, reason in error.value.message) == (field, True)


def test_a_report_names_its_unit_in_full_and_its_input_is_checked_field_by_field(kaifeng, notice):
    units = reporting_units(kaifeng, notice.to)
    assert check_report(_report(), kaifeng, units, today=D(2023, 6, 1)) == "开封市公安局"
    for changes, field in [({"channel": "口头"}, "channel"), ({"title": ""}, "title"), ({"page": 1}, "page")]:
        with pytest.raises(InputError) as error:
            _report(**changes)
        assert error.value.field == field


def test_forwarding_and_adoption_rules():
    report = Report("开封市公安局", "春雷行动", D(2023, 2, 15))
    with pytest.raises(NotAllowed, match="尚未推送"):
        check_outcome(report, Outcome.PROVINCE, D(2023, 3, 1), today=D(2023, 6, 1))
    with pytest.raises(InputError, match="早于报送日期"):
        check_outcome(report, Outcome.FORWARDED, D(2023, 2, 14), today=D(2023, 6, 1))
    with pytest.raises(InputError, match="晚于今天"):
        check_outcome(report, Outcome.FORWARDED, D(2023, 6, 2), today=D(2023, 6, 1))
    check_outcome(report, Outcome.FORWARDED, D(2023, 2, 15), today=D(2023, 6, 1))
    report.forwarded_on = D(2023, 2, 16)
    with pytest.raises(NotAllowed, match="已于 2023-02-16 推送省办"):
        check_outcome(report, Outcome.FORWARDED, D(2023, 2, 17), today=D(2023, 6, 1))
    with pytest.raises(InputError, match="早于推送日期"):
        check_outcome(report, Outcome.NATIONAL, D(2023, 2, 15), today=D(2023, 6, 1))
    check_outcome(report, Outcome.NATIONAL, D(2023, 2, 20), today=D(2023, 6, 1))


def test_counts_by_the_day_each_step_happened_and_ranks_share_places():
    units = ["甲", "乙", "丙", "丁"]
    reports = [
        Report("甲", "a", D(2023, 3, 30), D(2023, 3, 31), D(2023, 4, 2)),  # adopted in Q2
        Report("乙", "b", D(2023, 1, 5)),
        Report("丙", "c", D(2023, 2, 5)),
        Report("外", "d", D(2023, 2, 5)),  # not a reporting unit
        Report("丁", "e", D(2022, 12, 30), D(2023, 1, 3), D(2023, 1, 10), D(2023, 1, 20)),  # last year's report
    ]
    q1 = count_quarter(reports, units, 2023, 1)
    assert q1 == [UnitCounts("甲", 1, 1, 0, 0), UnitCounts("乙", 1), UnitCounts("丙", 1), UnitCounts("丁", 0, 1, 1, 1)]
    assert [(r.rank, r.counts.unit) for r in rank(q1)] == [(1, "丁"), (2, "甲"), (3, "乙"), (3, "丙")]
    assert count_quarter(reports, units, 2023, 2)[0] == UnitCounts("甲", 0, 0, 1, 0)
    assert [(r.title, where) for r, where in adopted_in(reports, units, 2023, 1)] == [
        ("e", [Outcome.PROVINCE, Outcome.NATIONAL])
    ]


@pytest.mark.parametrize(
    ("received", "at", "standing"),
    [
        (D(2023, 2, 28), D(2023, 3, 5), PlanStanding.ON_TIME),
        (D(2023, 3, 1), D(2023, 3, 5), PlanStanding.LATE),
        (None, D(2023, 2, 28), PlanStanding.WAITING),
        (None, D(2023, 3, 1), PlanStanding.MISSING),
    ],
)
def test_plan_standing(received, at, standing):
    assert plan_standing(D(2023, 2, 28), received, at) is standing


def test_chasing_after_the_due_date_then_every_few_days():
    every = dt.timedelta(days=3)
    due = D(2023, 2, 28)
    assert not chase_due(due=due, received=False, last_reminded=None, at=due, every=every)
    assert chase_due(due=due, received=False, last_reminded=None, at=D(2023, 3, 1), every=every)
    assert not chase_due(due=due, received=False, last_reminded=D(2023, 3, 1), at=D(2023, 3, 3), every=every)
    assert chase_due(due=due, received=False, last_reminded=D(2023, 3, 1), at=D(2023, 3, 4), every=every)
    assert not chase_due(due=due, received=True, last_reminded=None, at=D(2023, 3, 4), every=every)


def test_assessment_points_and_places():
    reports = [
        Report("甲", "a", D(2023, 5, 1), D(2023, 5, 2), D(2023, 5, 3), D(2024, 1, 5)),  # 1 + 2 + 5 + 10
        Report("乙", "b", D(2023, 5, 1)),
        Report("乙", "c", D(2022, 12, 1), D(2023, 1, 2)),  # last year's: not counted
        Report("丙", "d", D(2023, 6, 1), D(2023, 6, 2)),
    ]
    plans = {"甲": D(2023, 3, 1), "乙": D(2023, 2, 1), "丙": D(2023, 2, 27)}
    rules = AssessmentRules(plan_late=4, plan_missing=-2)
    scores = assess(
        ["甲", "乙", "丙", "丁"], reports, plans, year=2023, due=D(2023, 2, 28), rules=rules, at=D(2024, 1, 10)
    )
    assert [(s.rank, s.counts.unit, s.plan, s.points) for s in scores] == [
        (1, "甲", PlanStanding.LATE, 22),
        (2, "丙", PlanStanding.ON_TIME, 13),
        (3, "乙", PlanStanding.ON_TIME, 11),
        (4, "丁", PlanStanding.MISSING, -2),
    ]
    assert scores[0].parts == {"submitted": 1, "forwarded": 2, "province": 5, "national": 10, "plan": 4}


def test_assessment_rules_from_yaml_data():
    assert parse_rules({"national": 20}).national == 20 and parse_rules({}) == AssessmentRules()
    for data, field in [({"weights": 1}, "weights"), ({"submitted": -1}, "submitted"), ([], "（根）")]:
        with pytest.raises(InputError) as error:
            parse_rules(data)
        assert error.value.field == field


def test_roll_year_leaves_reference_numbers_and_other_years_alone():
    text = "2022年将召开……（汴打假办〔2022〕2号）……（2021—2035年）……2022 年底、12022年"
    assert roll_year(text, 2022, 2023) == "2023年将召开……（汴打假办〔2022〕2号）……（2021—2035年）……2023 年底、12022年"


def test_next_year_without_the_national_notice_marks_the_reference_and_moves_the_due_date(notice):
    codes = {"汴打假", "汴打假办"}
    first, _ = next_year_notice(
        notice, year=2023, plans_due=D(2023, 2, 28), office="市办", national=None, local_codes=codes
    )
    assert f"《关于做好2023年打击侵权假冒宣传工作的通知》（{PENDING_REF}）" in first.enclosure.body
    second, notes = next_year_notice(
        first, year=2024, plans_due=D(2024, 3, 15), office="市办", national=None, local_codes=codes
    )
    assert "于2024年3月15日前将" in second.body and second.body.count("前将本单位") == 1
    assert notes == ["上一年度方案中没有找到全国通知的引用，请拟稿人补充"]
    with pytest.raises(InputError) as error:
        next_year_notice(notice, year=2023, plans_due=D(2024, 1, 1), office="市办", national=None, local_codes=codes)
    assert error.value.field == "plans_due"
    with pytest.raises(InputError) as error:
        next_year_notice(
            notice.model_copy(update={"enclosure": None}),
            year=2023,
            plans_due=D(2023, 2, 1),
            office="市办",
            national=None,
            local_codes=codes,
        )
    assert error.value.field == "enclosure"


def test_the_national_notice_is_checked():
    with pytest.raises(InputError) as error:
        NationalNotice("关于做好2023年打击侵权假冒宣传工作的通知", "打假办发(2023)1号")
    assert error.value.field == "national_ref"
    with pytest.raises(InputError) as error:
        NationalNotice("《通知》", "打假办发〔2023〕1号")
    assert error.value.field == "national_title"


def test_a_quiet_quarter_commends_nobody(kaifeng, notice):
    units = reporting_units(kaifeng, notice.to)
    names = {u.name: display_name(u) for u in units}
    ranked = rank([UnitCounts(u.name) for u in units])
    spec = circular_spec(
        notice=notice,
        office="市打击侵权假冒工作领导小组办公室",
        year=2022,
        quarter=3,
        ranked=ranked,
        names=names,
        adopted=[],
    )
    assert "本季度暂无被省领导小组办公室工作简报、中国打击侵权假冒工作网采用的工作信息。" in spec.body
    assert "本季度各单位均未报送工作信息。" in spec.body
    assert "（2022年7月1日至2022年9月30日）" in spec.body
    assert {row[0] for row in spec.attachments[0].table.rows[:-1]} == {"1"}
    assert spec.approval.sign == "陈立新" and spec.approval.review == ["李红梅"]


def test_the_default_due_date_of_the_plans_stays_in_the_year():
    assert default_plans_due(2023, D(2023, 1, 5)) == D(2023, 2, 19)
    assert default_plans_due(2024, D(2023, 10, 1)) == D(2024, 1, 31)
    assert default_plans_due(2023, D(2023, 12, 1)) == D(2023, 12, 31)
