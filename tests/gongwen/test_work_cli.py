"""The 年度宣传工作 commands: plan, receive, info, circular, assess — results, exit codes, bad input.

The seed notice 汴打假〔2022〕3号 is the year's notice (``plan open``); a refused command exits
2 (or 3) with the field and the reason, and every table is as it was before (snapshot).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml
from docx import Document as WordDocument

from storage import registration
from storage.database import Database, sqlite_url
from tests.gongwen.cli_runner import run, run_json
from tests.gongwen.test_cli import DRAFTER, snapshot

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kaifeng"
QIXIAN = "杞县打击侵权假冒工作领导小组"


@pytest.fixture
def home(tmp_path: Path, capsys, pins) -> Path:
    """The directory, the seed notice signed and registered, and made the 2022 notice (plans due 5月31日)."""
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    _, data = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    doc = str(data["id"])
    run_json(capsys, home, "submit", doc, *DRAFTER)
    for name in ("李红梅", "陈立新"):
        assert run_json(capsys, home, "decide", doc, "--as", name, "--pin", pins[name], "--approve")[0] == 0
    db = Database.from_url(sqlite_url(home / "gongwen.db"))
    registration.register(db, document_id=int(doc))
    db.dispose()
    code, data = run_json(capsys, home, "plan", "open", "2022", "--notice", "汴打假〔2022〕3号", "--due", "2022-05-31")
    assert (code, data["notice_id"], data["plans_due"]) == (0, int(doc), "2022-05-31")
    return home


def submit(capsys, home: Path, *changes: str, title: str = "市公安局开展春雷行动") -> tuple[int, dict]:
    args = {"--unit": "市公安局", "--title": title, "--date": "2022-06-01", "--channel": "电子邮件", "--year": "2022"}
    for option, value in zip(changes[::2], changes[1::2], strict=True):
        args[option] = value
    return run_json(capsys, home, "info", "submit", *(item for pair in args.items() for item in pair))


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (("--unit", "开封市某某局"), "unit", "目录中没有机关「开封市某某局」"),
        (("--unit", "开封市人民政府"), "unit", "不是2022年度报送工作信息的成员单位或县（区）"),
        (("--date", "2021-12-30"), "date", "报送日期 2021-12-30 不在 2022 年度内"),
        (("--date", "2023-01-02"), "date", "不在 2022 年度内"),
        (("--date", "2022/06/01"), "date", "应写作 YYYY-MM-DD"),
        (("--channel", "口头"), "channel", "应为以下之一"),
        (("--title", " "), "title", "不能为空"),
    ],
)
def test_a_bad_report_exits_2_naming_the_field_and_writes_nothing(capsys, home, changes, field, reason):
    before = snapshot(home)
    code, data = submit(capsys, home, *changes)
    assert (code, data["field"]) == (2, field)
    assert reason in data["error"]
    assert snapshot(home) == before


def test_a_duplicate_report_exits_2_and_writes_nothing(capsys, home):
    code, data = submit(capsys, home)
    assert (code, data["unit"], data["date"]) == (0, "开封市公安局", "2022-06-01")
    before = snapshot(home)
    code, data = submit(capsys, home, "--unit", "开封市公安局", "--date", "2022-06-03")
    assert (code, data["field"]) == (2, "title")
    assert data["error"] == "「开封市公安局」已于 2022-06-01 报送同题信息（编号 1）"
    assert snapshot(home) == before
    code, out, err = run(capsys, home, "info", "submit", "--unit", "外省某局", "--title", "x", "--date", "2022-06-01")
    assert code == 2 and "unit：目录中没有机关「外省某局」" in err


def test_forward_then_adopt_and_list(capsys, home):
    submit(capsys, home)
    before = snapshot(home)
    code, data = run_json(capsys, home, "info", "adopt", "1", "--by", "province", "--on", "2022-06-05")
    assert code == 3 and data["field"] == "outcome" and "尚未推送省领导小组办公室" in data["error"]
    code, data = run_json(capsys, home, "info", "forward", "1", "--on", "2022-05-30")
    assert (code, data["field"]) == (2, "on")  # before it was reported
    assert run_json(capsys, home, "info", "forward", "9", "--on", "2022-06-02")[0] == 2
    assert snapshot(home) == before
    assert run_json(
        capsys, home, "info", "forward", "1", "--on", "2022-06-02", "--as", "郭佳佳", "--pin", "417305"
    ) == (
        0,
        {"id": 1, "outcome": "forwarded", "on": "2022-06-02"},
    )
    code, data = run_json(capsys, home, "info", "adopt", "1", "--by", "national", "--on", "2022-06-20")
    assert (code, data["outcome"]) == (0, "national")
    assert run_json(capsys, home, "info", "forward", "1", "--on", "2022-06-03")[0] == 3  # only once
    code, data = run_json(capsys, home, "info", "list", "2022")
    [report] = data["reports"]
    assert (report["forwarded"], report["province"], report["national"]) == ("2022-06-02", None, "2022-06-20")
    code, data = run_json(capsys, home, "audit", "trail", "1")
    assert code == 0


def test_receive_plans_status_and_chase(capsys, home):
    code, data = run_json(
        capsys,
        home,
        "receive",
        "plan",
        QIXIAN,
        "--year",
        "2022",
        "--on",
        "2022-05-10",
        "--as",
        "李红梅",
        "--pin",
        "582916",
    )
    assert (code, data.get("number"), data.get("standing")) == (0, "汴打假办收〔2022〕1号", "按期报送"), data
    code, data = run_json(capsys, home, "receive", "plan", "市公安局", "--on", "2022-06-02")
    assert (code, data["number"], data["standing"]) == (0, "汴打假办收〔2022〕2号", "逾期报送")
    before = snapshot(home)
    for args, field in [
        ((QIXIAN, "--on", "2022-05-11"), "sender"),  # already registered
        (("开封市人民政府", "--on", "2022-05-11"), "sender"),  # not addressed by the notice
        (("某县", "--on", "2022-05-11"), "sender"),
        (("市商务局", "--on", "2022-04-01"), "on"),  # before the notice was signed
        (("市商务局", "--year", "2021", "--on", "2022-05-11"), "year"),  # no notice that year
    ]:
        code, data = run_json(capsys, home, "receive", "plan", *args)
        assert (code, data["field"]) == (2, field), (args, data)
    assert snapshot(home) == before
    # a 经办人 not in the directory is refused, and the refusal audited; --as without --pin is bad input
    code, data = run_json(capsys, home, "receive", "plan", "市商务局", "--on", "2022-05-11", "--as", "李红梅")
    assert (code, data["field"]) == (2, "--pin"), data
    code, data = run_json(
        capsys, home, "receive", "plan", "市商务局", "--on", "2022-05-11", "--as", "无名氏", "--pin", "123456"
    )
    assert (code, data["field"]) == (3, "as") and "无名氏" in data["error"], data
    after = snapshot(home)
    assert {name: rows for name, rows in after.items() if name not in ("audit_events", "audit_head")} == {
        name: rows for name, rows in before.items() if name not in ("audit_events", "audit_head")
    }
    added = after["audit_events"][len(before["audit_events"]) :]
    assert [(row[2], row[3]) for row in added] == [("无名氏", "plan_received_refused")], added
    code, data = run_json(capsys, home, "receive", "status", "2022", "--at", "2022-05-20")
    standings = {r["sender"]: r["standing"] for r in data["returns"]}
    assert (data["received"], data["expected"]) == (2, 20)
    assert standings["开封市商务局"] == "尚未报送" and standings[QIXIAN] == "按期报送"
    code, data = run_json(capsys, home, "receive", "chase", "2022", "--at", "2022-06-03")
    assert code == 0 and len(data["reminded"]) == 18 and QIXIAN not in data["reminded"]
    assert len(list((home / "outbox").glob("*.eml"))) == 18
    assert run_json(capsys, home, "receive", "chase", "2022", "--at", "2022-06-04")[1]["reminded"] == []


def test_the_circular_with_its_table_and_chart_and_the_assessment_as_csv(capsys, home, tmp_path):
    submit(capsys, home)
    submit(
        capsys, home, "--unit", "顺河回族区打击侵权假冒工作领导小组", "--date", "2022-05-20", title="顺河回族区宣传周"
    )
    run_json(capsys, home, "info", "forward", "2", "--on", "2022-05-21")
    run_json(capsys, home, "info", "adopt", "2", "--by", "province", "--on", "2022-06-10")
    run_json(capsys, home, "receive", "plan", QIXIAN, "--on", "2022-05-10")
    code, data = run_json(capsys, home, "circular", "2022", "2", "--at", "2022-06-29")
    assert (code, data["field"]) == (2, "quarter")
    code, data = run_json(capsys, home, "circular", "2022", "2", "-o", str(tmp_path / "q2"))
    assert code == 0 and data["title"] == "关于2022年第二季度打击侵权假冒工作信息报送情况的通报"
    assert [(f["rank"], f["name"]) for f in data["figures"][:3]] == [
        (1, "顺河回族区"),
        (2, "市公安局"),
        (3, "市委宣传部"),
    ]
    assert Path(data["chart"]).read_bytes().startswith(b"\x89PNG")
    [table] = WordDocument(data["docx"]).tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["名次", "单位", "报送信息", "推送省办", "省简报采用", "国家网站采用"]
    assert rows[1:3] == [["1", "顺河回族区", "1", "1", "1", "0"], ["2", "市公安局", "1", "0", "0", "0"]]
    assert rows[-1] == ["", "合计", "2", "1", "1", "0"]
    code, data = run_json(capsys, home, "show", str(data["id"]))
    assert (data["doc_type"], data["state"]) == ("通报", "draft")

    rules = tmp_path / "rules.yaml"
    rules.write_text(yaml.safe_dump({"province": 8, "plan_missing": -3}), encoding="utf-8")
    out = tmp_path / "考核.csv"
    code, data = run_json(capsys, home, "assess", "2022", "-o", str(out), "--rules", str(rules), "--at", "2022-12-31")
    assert code == 0 and data["rules"]["province"] == 8
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert table[0]["县（区）"] == "杞县" and table[0]["得分"] == "10"  # its plan on time
    assert table[1] == {
        "名次": "2",
        "县（区）": "顺河回族区",
        "报送信息": "1",
        "推送省办": "1",
        "省简报采用": "1",
        "国家网站采用": "0",
        "年度方案": "逾期未报",
        "得分": "8",  # 1 + 2 + 8 - 3
    }
    assert [row["得分"] for row in table[2:]] == ["-3"] * 7 and {row["名次"] for row in table[2:]} == {"3"}

    rules.write_text("weights: 1\n", encoding="utf-8")
    code, data = run_json(capsys, home, "assess", "2022", "-o", str(tmp_path / "x.csv"), "--rules", str(rules))
    assert (code, data["field"]) == (2, "weights")
    assert run_json(capsys, home, "assess", "2022", "-o", str(tmp_path / "x.txt"))[1]["field"] == "-o"
    assert not (tmp_path / "x.csv").exists()
