"""The ``gongwen`` command line: the seed flow, JSON output, exit codes, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import MetaData, create_engine, select

from doc_templates.reading import docx_text
from tests.gongwen.cli_runner import run, run_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kaifeng"
DRAFTER = ("--as", "郭佳佳", "--pin", "417305")  # the drafter and her PIN (examples/kaifeng/directory.yaml)


def snapshot(home: Path) -> dict[str, list]:
    """Every row of every table, to prove a refused command wrote nothing."""
    engine = create_engine(f"sqlite:///{home / 'gongwen.db'}")
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = {name: [tuple(r) for r in connection.execute(select(table))] for name, table in metadata.tables.items()}
    engine.dispose()
    return rows


def write_spec(tmp_path: Path, name: str, **changes) -> Path:
    data = yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path, capsys) -> Path:
    home = tmp_path / "home"
    code, out, err = run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))
    assert code == 0, err
    return home


def test_seed_flow_through_the_cli(capsys, home, pins):
    code, data = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    assert code == 0
    doc = str(data["id"])
    assert run_json(capsys, home, "submit", doc, *DRAFTER) == (0, {"id": int(doc), "state": "in_review"})
    code, data = run_json(
        capsys, home, "decide", doc, "--as", "李红梅", "--pin", pins["李红梅"], "--approve", "--opinion", "同意"
    )
    assert (code, data["state"]) == (0, "awaiting_signature")
    code, data = run_json(capsys, home, "decide", doc, "--as", "陈立新", "--pin", pins["陈立新"], "--approve")
    assert (code, data["state"]) == (0, "signed")
    code, data = run_json(capsys, home, "issue", doc)
    assert (code, data["ref"], data["archive_code"]) == (0, "汴打假〔2022〕3号", "J001-WS·2022-D30-0001")
    assert sorted(Path(p).name for p in data["files"]) == ["document.docx", "document.pdf"]
    assert data["pages"] >= 6
    docx = next(Path(p) for p in data["files"] if p.endswith(".docx"))
    text = docx_text(docx.read_bytes())
    assert "汴打假〔2022〕3号" in text and "2022年4月29日" in text
    assert (data["dispatch"]["state"], data["dispatch"]["sent"]) == ("dispatched", 32)
    assert len(list((home / "outbox").glob("*.eml"))) == 32  # GONGWEN_MAIL=outbox, the default
    code, data = run_json(capsys, home, "issue", doc)
    assert (data["ref"], data["dispatch"]["sent"]) == ("汴打假〔2022〕3号", 0)
    code, data = run_json(capsys, home, "audit", "trail", "汴打假〔2022〕3号")
    assert [e["action"] for e in data["events"]] == [
        "draft",
        "submit",
        "approve",
        "approve",
        "register",
        "print",
        "archive",
        *["send"] * 32,
        "dispatch",
    ]
    code, data = run_json(capsys, home, "audit", "verify", "--all")
    assert (code, data["ok"], data["packages"]) == (0, True, 1)
    code, out, _ = run(capsys, home, "show", doc)
    assert "已核发" in out and "李红梅" in out


def test_render_prints_a_spec_without_the_lifecycle(capsys, home, tmp_path):
    spec = write_spec(tmp_path, "issued.yaml", ref="汴打假〔2022〕3号")
    code, data = run_json(capsys, home, "render", str(spec), "-o", str(tmp_path / "seed.docx"))
    assert (code, data["pdf"]) == (0, None)
    assert "汴打假〔2022〕3号" in docx_text((tmp_path / "seed.docx").read_bytes())
    assert snapshot(home)["documents"] == []


def test_render_with_a_bad_reference_exits_2(capsys, home, tmp_path):
    spec = write_spec(tmp_path, "bad-ref.yaml", ref="汴打假(2022)3号")
    code, out, _ = run(capsys, home, "--json", "render", str(spec), "-o", str(tmp_path / "x.docx"))
    assert code == 2 and json.loads(out)["field"] == "ref"
    assert not (tmp_path / "x.docx").exists()


def test_wrong_pin_exits_3_and_is_audited(capsys, home):
    _, data = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    doc = str(data["id"])
    run_json(capsys, home, "submit", doc, *DRAFTER)
    code, data = run_json(capsys, home, "decide", doc, "--as", "李红梅", "--pin", "000000", "--approve")
    assert code == 3
    assert data == {"error": "PIN 不正确", "field": "pin"}
    _, trail = run_json(capsys, home, "audit", "trail", doc)
    assert trail["events"][-1]["action"] == "decision_refused"


def test_the_drafters_commands_need_her_pin_and_refusals_are_audited(capsys, home, pins):
    code, error = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), "--as", "郭佳佳", "--pin", "000000")
    assert (code, error) == (3, {"error": "PIN 不正确", "field": "pin"})
    assert snapshot(home)["documents"] == []
    _, data = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    doc = str(data["id"])
    code, error = run_json(capsys, home, "submit", doc, "--as", "郭佳佳", "--pin", "000000")
    assert (code, error) == (3, {"error": "PIN 不正确", "field": "pin"})
    code, error = run_json(capsys, home, "submit", doc, "--as", "李红梅", "--pin", pins["李红梅"])
    assert (code, error) == (3, {"error": "「李红梅」没有送审权限（须有 drafter 角色）", "field": "as"})
    code, error = run_json(capsys, home, "withdraw", doc, "--as", "李红梅", "--pin", pins["李红梅"])
    assert (code, error["field"]) == (3, "as") and "没有撤销权限" in error["error"]
    _, trail = run_json(capsys, home, "audit", "trail", doc)
    assert [e["action"] for e in trail["events"]] == ["draft", "submit_refused", "submit_refused", "withdraw_refused"]
    assert run_json(capsys, home, "withdraw", doc, *DRAFTER) == (0, {"id": int(doc), "state": "withdrawn"})


def test_revising_a_returned_draft_submits_it_again(capsys, home, tmp_path, pins):
    _, data = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    doc = str(data["id"])
    revised = write_spec(
        tmp_path, "revised.yaml", title="关于印发《2022年开封市打击侵权假冒宣传工作实施方案》的通知（修改稿）"
    )
    # a draft never submitted: a new version, still a 草稿
    code, data = run_json(capsys, home, "revise", doc, str(revised), *DRAFTER)
    assert (code, data) == (0, {"id": int(doc), "version": 2, "state": "draft", "round": 0})
    run_json(capsys, home, "submit", doc, *DRAFTER)
    code, data = run_json(
        capsys, home, "decide", doc, "--as", "李红梅", "--pin", pins["李红梅"], "--return", "--opinion", "请补充"
    )
    assert (code, data["state"]) == (0, "draft")
    code, out, _ = run(capsys, home, "revise", doc, str(EXAMPLE / "notice.yaml"), *DRAFTER, "--note", "已补充")
    assert code == 0 and "已修改为第 3 稿并重新送审" in out and "李红梅" in out
    _, trail = run_json(capsys, home, "audit", "trail", doc)
    actions = [e["action"] for e in trail["events"]]
    assert actions == ["draft", "revise", "submit", "return", "revise", "submit"]
    code, data = run_json(capsys, home, "show", doc)
    assert (data["state"], data["version"]) == ("in_review", 3)


def test_verify_exits_1_when_the_chain_is_broken(capsys, home):
    engine = create_engine(f"sqlite:///{home / 'gongwen.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE audit_events SET actor = '某人' WHERE id = 1")
    engine.dispose()
    code, data = run_json(capsys, home, "audit", "verify", "--all")
    assert code == 1
    assert data["ok"] is False
    chain = next(check for check in data["checks"] if check["name"] == "审计链")
    assert chain["ok"] is False and "#1" in chain["detail"]


BAD_SPECS = [
    ({"colour": "红"}, "colour", "未知字段"),
    ({"title": None}, "title", "缺少必填字段"),
    ({"date": "2022-02-30"}, "date", "不存在"),
    ({"doc_type": "请示", "to": ["开封市人民政府", "开封市公安局"]}, "to", "只主送一个"),
    ({"ref": "汴打假[2022]3号"}, "ref", "「[」不是六角括号"),
    ({"doc_type": "公文"}, "doc_type", "应为以下之一"),
    ({"to": ["不存在的机关"]}, "to[0]", "没有机关"),
]


@pytest.mark.parametrize(("changes", "field", "reason"), BAD_SPECS, ids=[b[1] for b in BAD_SPECS])
def test_bad_spec_exits_2_names_the_field_and_writes_nothing(capsys, home, tmp_path, changes, field, reason):
    spec = write_spec(tmp_path, "bad.yaml", **changes)
    before = snapshot(home)
    code, out, err = run(capsys, home, "--json", "draft", str(spec), *DRAFTER)
    assert code == 2
    error = json.loads(out)
    assert error["field"] == field
    assert reason in error["error"]
    assert "Traceback" not in err
    assert snapshot(home) == before


def test_bad_directory_exits_2_and_keeps_the_loaded_one(capsys, home, tmp_path):
    data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
    data["groups"][0]["members"].append("不存在的单位")
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = snapshot(home)
    code, out, err = run(capsys, home, "org", "load", str(path))
    assert code == 2
    assert "groups[0].members[" in err and "不存在的单位" in err
    assert snapshot(home) == before


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"title: [unclosed", "YAML 格式错误"), (b"\xff\xfe\x00bad", "UTF-8"), (b"- a\n- b\n", "映射")],
)
def test_unreadable_spec_files_exit_2(capsys, home, tmp_path, content, reason):
    path = tmp_path / "spec.yaml"
    path.write_bytes(content)
    code, out, err = run(capsys, home, "draft", str(path), *DRAFTER)
    assert code == 2
    assert reason in err


def test_missing_file_and_bad_arguments_exit_2(capsys, home):
    before = snapshot(home)
    assert run(capsys, home, "draft", "/nonexistent.yaml", *DRAFTER)[0] == 2
    assert run(capsys, home, "submit", "abc", *DRAFTER)[0] == 2
    assert run(capsys, home, "decide", "1", "--as", "李红梅", "--pin", "1")[0] == 2
    assert run(capsys, home, "submit", "999", *DRAFTER)[0] == 2
    assert run(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), "--as", "郭佳佳")[0] == 2  # --pin is required
    assert run(capsys, home, "submit", "1")[0] == 2
    assert run(capsys, home, "revise", "1", str(EXAMPLE / "notice.yaml"), "--as", "郭佳佳")[0] == 2
    assert snapshot(home) == before  # nothing written, nothing audited


def test_wrong_state_exits_3(capsys, home):
    _, data = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    code, error = run_json(capsys, home, "issue", str(data["id"]))
    assert code == 3
    assert error["field"] == "state" and "草稿" in error["error"]


def test_control_characters_are_refused_and_tabs_removed_with_a_warning(capsys, home, tmp_path):
    before = snapshot(home)
    spec = write_spec(tmp_path, "ctl.yaml", title="关于印发\x07方案的通知")
    code, error = run_json(capsys, home, "draft", str(spec), *DRAFTER)
    assert (code, error["field"]) == (2, "title") and "U+0007" in error["error"]
    assert snapshot(home) == before
    spec = write_spec(tmp_path, "tab.yaml", title="关于印发\t方案的通知")
    code, out, err = run(capsys, home, "--json", "draft", str(spec), *DRAFTER)
    assert code == 0
    assert json.loads(out)["warnings"] == ["title：已删除 1 个制表符"]
    code, out, _ = run(capsys, home, "show", str(json.loads(out)["id"]))
    assert "关于印发方案的通知" in out


def test_each_command_closes_its_database_connections_when_it_ends(capsys, home, monkeypatch):
    """A process that runs several commands (the demo, tests) keeps no command's pooled connections."""
    from storage.database import Database

    disposed = []
    monkeypatch.setattr(Database, "dispose", lambda db: disposed.append(db))
    assert run_json(capsys, home, "db", "upgrade")[0] == 0
    assert run_json(capsys, home, "db", "upgrade")[0] == 0
    assert len(disposed) == 2 and disposed[0] is not disposed[1]
    code, _ = run_json(capsys, home, "render", "no-such-spec.yaml", "-o", str(home / "x.docx"))
    assert code == 2 and len(disposed) == 2  # a command that never opened the database closes nothing
