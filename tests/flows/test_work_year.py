"""A year of 宣传工作 with fixed dates, through the domain (tests/flows/work_year.py holds the inputs):
the 2023 plan drafted from the 2022 seed and issued in January, the units' plans registered (two
counties late and chased), 工作信息 over four quarters, four 通报 with the right figures, and the
counties' 考核 against a table computed by hand."""

from __future__ import annotations

import email
import email.policy
import io

import pytest
from docx import Document as WordDocument
from docx.shared import Pt

from actions import annual_work
from actions.distribution import MailOptions
from delivery import OutboxChannel
from doc_templates import print_document
from models.errors import InputError, NotAllowed
from models.lifecycle import State
from models.work import AssessmentRules, PlanStanding, score_rows
from storage import documents, work
from storage.directory_store import load_directory
from tests.flows.work_year import (
    AFTER_Q4,
    COUNTIES,
    LATE,
    MEMBERS,
    NATIONAL,
    ON_TIME,
    PLANS_DUE,
    SIGNED_2023,
    D,
    issue,
    record_between,
    seed_issued,
)
from tests.storage.helpers import load

EVERY = D(2023, 3, 4) - D(2023, 3, 1)  # 催办 again 3 days after the last reminder
QUARTER_ENDS = [D(2023, 3, 31), D(2023, 6, 30), D(2023, 9, 30), D(2023, 12, 31)]

#: The 统计表 of each 通报, counted by hand from REPORTS: the units with any figure, in 名次 order
#: (名次, 单位, 报送, 推送省办, 省简报采用, 国家网站采用); every other unit shares the next 名次 with
#: zeros. An adoption counts in the quarter it happened (杞县's Q1 report, adopted on 4月6日, in Q2).
EXPECTED = {
    1: [
        ("1", "市公安局", 2, 2, 1, 1),
        ("2", "市市场监督管理局", 1, 1, 1, 0),
        ("3", "杞县", 1, 1, 0, 0),
        ("4", "兰考县", 1, 0, 0, 0),
    ],
    2: [
        ("1", "顺河回族区", 1, 1, 1, 1),
        ("2", "市中级人民法院", 1, 1, 1, 0),
        ("3", "杞县", 1, 0, 1, 0),
        ("4", "市委宣传部", 1, 1, 0, 0),
    ],
    3: [("1", "开封海关", 1, 1, 1, 1), ("2", "杞县", 1, 1, 1, 0), ("3", "鼓楼区", 1, 1, 0, 0)],
    4: [
        ("1", "杞县", 1, 1, 0, 1),
        ("2", "市公安局", 1, 1, 1, 0),
        ("3", "顺河回族区", 1, 1, 0, 0),
        ("4", "尉氏县", 1, 0, 0, 0),
    ],
}
TOTALS = {1: (5, 4, 2, 1), 2: (4, 3, 3, 1), 3: (3, 3, 2, 1), 4: (4, 3, 1, 1)}
#: 通报表扬 of each quarter: who, which report, where.
COMMENDED = {
    1: [
        "市市场监督管理局报送的《市市场监管局开展春节市场专项检查》，被省领导小组办公室工作简报采用。",
        "市公安局报送的《开封警方破获一起特大假冒注册商标案》，被省领导小组办公室工作简报和中国打击侵权假冒工作网采用。",
    ],
    2: [
        "市中级人民法院报送的《市中院发布知识产权司法保护典型案例》，被省领导小组办公室工作简报采用。",
        "杞县报送的《杞县开展知识产权宣传周活动》，被省领导小组办公室工作简报采用。",
        "顺河回族区报送的《顺河回族区开展世界知识产权日宣传》，被省领导小组办公室工作简报和中国打击侵权假冒工作网采用。",
    ],
    3: [
        "开封海关报送的《开封海关查获一批侵权货物》，被省领导小组办公室工作简报和中国打击侵权假冒工作网采用。",
        "杞县报送的《杞县开展秋风行动》，被省领导小组办公室工作简报采用。",
    ],
    4: [
        "市公安局报送的《开封警方开展昆仑行动》，被省领导小组办公室工作简报采用。",
        "杞县报送的《杞县打击侵权假冒工作取得新成效》，被中国打击侵权假冒工作网采用。",
    ],
}

#: 考核 of 2023 by hand, default weights (报送 1, 推送 2, 省简报 5, 国家网站 10; plan 按期 10, 逾期 5):
#: 杞县 4 reports, 3 forwarded, 2 provincial, 1 national = 4+6+10+10 = 30, plan on time +10 = 40;
#: 顺河回族区 2+4+10+10 = 26 (its December report adopted in January counts for 2023) +10 = 36;
#: 鼓楼区 1+2 +10 = 13; 尉氏县 1 +10 = 11; 祥符区, 龙亭区, 禹王台区 10; 兰考县 1 + 5 (late) = 6;
#: 通许县 5 (late).
ASSESSMENT = [
    (1, "杞县", 4, 3, 2, 1, "按期报送", "40"),
    (2, "顺河回族区", 2, 2, 2, 1, "按期报送", "36"),
    (3, "鼓楼区", 1, 1, 0, 0, "按期报送", "13"),
    (4, "尉氏县", 1, 0, 0, 0, "按期报送", "11"),
    (5, "祥符区", 0, 0, 0, 0, "按期报送", "10"),
    (5, "龙亭区", 0, 0, 0, 0, "按期报送", "10"),
    (5, "禹王台区", 0, 0, 0, 0, "按期报送", "10"),
    (8, "兰考县", 1, 0, 0, 0, "逾期报送", "6"),
    (9, "通许县", 0, 0, 0, 0, "逾期报送", "5"),
]


@pytest.fixture
def year(db, kaifeng, notice, pins):
    """The directory, the seed 汴打假〔2022〕3号 issued, and the 2023 plan drafted from it."""
    load(db, kaifeng)
    seed = seed_issued(db, notice, pins)
    drafted = annual_work.draft_annual_plan(db, year=2023, plans_due=PLANS_DUE, national=NATIONAL)
    return seed, drafted


def test_the_2023_plan_is_drafted_from_the_2022_one_and_issued_in_january(db, year, pins):
    seed, drafted = year
    assert drafted.created and drafted.notes == []
    with db.transaction() as session:
        plan = documents.spec_of(documents.get(session, document_id=drafted.document_id))
        before = documents.spec_of(documents.get(session, document_id=seed))
    assert plan.title == "关于印发《2023年开封市打击侵权假冒宣传工作实施方案》的通知"
    assert plan.enclosure.title == "2023年开封市打击侵权假冒宣传工作实施方案"
    text = plan.enclosure.body
    assert "《关于做好2023年打击侵权假冒宣传工作的通知》（打假办发〔2023〕1号）" in text
    assert "打假办发〔2022〕2号" not in text and "（汴打假办〔2022〕2号）" in text  # the city's own stays
    assert "（2021—2035年）" in text and "纳入2023年全市打击侵权假冒违法犯罪活动考核成绩" in text
    assert "2022年" not in text and "2022年" not in plan.body
    assert "于2023年2月28日前将本单位、本辖区年度宣传工作方案报送市打击侵权假冒工作领导小组办公室" in plan.body
    assert (plan.to, plan.cc_report, plan.cc, plan.approval) == (
        before.to,
        before.cc_report,
        before.cc,
        before.approval,
    )
    assert plan.date is None and plan.print_date is None
    assert annual_work.draft_annual_plan(db, year=2023, plans_due=PLANS_DUE).created is False
    assert issue(db, drafted.document_id, pins, SIGNED_2023) == "汴打假〔2023〕1号"
    with db.transaction() as session:
        issued = documents.get(session, document_id=drafted.document_id)
        assert (issued.state, issued.signed_on) == (State.REGISTERED.value, SIGNED_2023)
        assert work.get_year(session, year=2023).plans_due == PLANS_DUE


def test_a_year_of_plans_reports_circulars_and_the_assessment(db, year, pins, tmp_path):
    _, drafted = year
    with pytest.raises(NotAllowed, match="尚未印发"):
        work.receive_plan(
            db, year=2023, sender=MEMBERS[0], received_on=D(2023, 2, 1), title=None, actor="李红梅", today=D(2023, 2, 1)
        )
    issue(db, drafted.document_id, pins, SIGNED_2023)

    # 收文: the plans arrive; 催办 after the due date, again three days later; two counties come late.
    numbers = [
        work.receive_plan(db, year=2023, sender=unit, received_on=day, title=None, actor="李红梅", today=day).number
        for unit, day in ON_TIME
    ]
    assert numbers == [f"汴打假办收〔2023〕{n}号" for n in range(1, 18)]
    outbox = tmp_path / "outbox"
    options = MailOptions(sender="kfsfld@kaifeng.example.cn")

    def chase(day):
        return annual_work.chase_plans(db, OutboxChannel(outbox), year=2023, at=day, every=EVERY, options=options)

    assert chase(D(2023, 2, 28)).reminded == []  # not yet overdue
    assert chase(D(2023, 3, 3)).reminded == ["开封海关", COUNTIES[1], COUNTIES[3]]
    assert chase(D(2023, 3, 4)).reminded == []  # reminded yesterday
    late_number = work.receive_plan(
        db, year=2023, sender=LATE[0][0], received_on=LATE[0][1], title=None, actor="李红梅", today=LATE[0][1]
    ).number
    assert late_number == "汴打假办收〔2023〕18号"
    assert chase(D(2023, 3, 7)).reminded == ["开封海关", COUNTIES[3]]
    work.receive_plan(
        db, year=2023, sender=LATE[1][0], received_on=LATE[1][1], title=None, actor="李红梅", today=LATE[1][1]
    )
    with pytest.raises(InputError) as twice:
        work.receive_plan(
            db, year=2023, sender=LATE[1][0], received_on=LATE[1][1], title=None, actor="李红梅", today=LATE[1][1]
        )
    assert twice.value.field == "sender" and "汴打假办收〔2023〕19号" in twice.value.message
    report = chase(D(2023, 3, 13))
    assert report.reminded == ["开封海关"]
    standing = {r.sender: (r.standing, r.reminders) for r in report.returns}
    assert standing[COUNTIES[1]] == (PlanStanding.LATE, 1)
    assert standing[COUNTIES[3]] == (PlanStanding.LATE, 2)
    assert standing["开封海关"] == (PlanStanding.MISSING, 3)
    assert sum(1 for s, _ in standing.values() if s is PlanStanding.ON_TIME) == 17
    messages = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in sorted(outbox.glob("*.eml"))
    ]
    assert len(messages) == 6
    assert [m["To"].addresses[0].display_name for m in messages] == [
        "开封海关",
        COUNTIES[1],
        COUNTIES[3],
        "开封海关",
        COUNTIES[3],
        "开封海关",
    ]
    body = messages[3].get_body(("plain",)).get_content()
    assert "汴打假〔2023〕1号" in body and "2023年2月28日前" in body and "现第2次催办" in body

    # 工作信息 quarter by quarter, each quarter's 通报 on its last day.
    ids: dict[str, int] = {}
    start = D(2022, 12, 31)
    for quarter, end in enumerate(QUARTER_ENDS, start=1):
        record_between(db, start, end, ids)
        if quarter == 1:
            with pytest.raises(InputError, match="才结束"):
                annual_work.draft_quarterly_circular(db, year=2023, quarter=1, at=D(2023, 3, 30))
        drafted_circular = annual_work.draft_quarterly_circular(db, year=2023, quarter=quarter, at=end)
        check_circular(db, quarter, drafted_circular, tmp_path)
        start = end
    record_between(db, AFTER_Q4, D(2024, 1, 31), ids)
    again = annual_work.draft_quarterly_circular(db, year=2023, quarter=4, at=D(2024, 1, 31))
    assert again.created is False and again.figures[0]["name"] == "杞县"  # the draft stays as it was

    # 考核 of the counties.
    scores, names = annual_work.assessment(db, year=2023, rules=AssessmentRules(), at=D(2024, 1, 15))
    assert [tuple(row.values()) for row in score_rows(scores, names)] == ASSESSMENT


def check_circular(db, quarter: int, drafted: annual_work.CircularDraft, folder) -> None:
    """The 通报 of ``quarter``: its table and figures, totals, 通报表扬, route; the docx table."""
    assert drafted.created and drafted.chart.startswith(b"\x89PNG")
    with db.transaction() as session:
        document = documents.get(session, document_id=drafted.document_id)
        spec, directory = documents.spec_of(document), load_directory(session)
    season = ["", "第一季度", "第二季度", "第三季度", "第四季度"][quarter]
    assert spec.title == f"关于2023年{season}打击侵权假冒工作信息报送情况的通报"
    assert (spec.doc_type.value, spec.issuer, document.drafter) == (
        "通报",
        ["市打击侵权假冒工作领导小组办公室"],
        "郭佳佳",
    )
    assert spec.to == ["市打击侵权假冒工作领导小组相关成员单位", "各县（区）打击侵权假冒工作领导小组"]
    assert (document.review, document.sign, document.state) == (["李红梅"], "陈立新", State.DRAFT.value)
    [attachment] = spec.attachments
    rows = attachment.table.rows
    expected = [[rank, unit, *map(str, figures)] for rank, unit, *figures in EXPECTED[quarter]]
    assert rows[: len(expected)] == expected
    rest = str(len(expected) + 1)
    assert all(row[0] == rest and row[2:] == ["0"] * 4 for row in rows[len(expected) : -1])
    assert len(rows) == 20 + 1 and rows[-1] == ["", "合计", *map(str, TOTALS[quarter])]
    submitted, forwarded, province, national = TOTALS[quarter]
    assert (
        f"共收到工作信息{submitted}条，向省领导小组办公室推送{forwarded}条，被省领导小组办公室工作简报采用"
        f"{province}条，被中国打击侵权假冒工作网采用{national}条。" in spec.body
    )
    paragraphs = spec.body.split("\n\n")
    assert [p.split(" ", 1)[1] for p in paragraphs if p[:2] in ("1.", "2.", "3.")] == COMMENDED[quarter]
    assert [f["name"] for f in drafted.figures[: len(expected)]] == [unit for _, unit, *_ in EXPECTED[quarter]]
    if quarter == 1:
        out = print_document(spec, directory, ref=None, out_docx=folder / "draft.docx")
        [table] = WordDocument(io.BytesIO(out.docx.read_bytes())).tables
        assert [[c.text for c in row.cells] for row in table.rows] == [attachment.table.columns, *rows]
        head, cell = table.rows[0].cells[0].paragraphs[0], table.rows[1].cells[1].paragraphs[0]
        assert (head.style.name, cell.style.name) == ("表头", "表格文字")
        assert head.style.font.size == cell.style.font.size == Pt(16)  # 3号, as the template sets
