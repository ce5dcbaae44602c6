"""``gongwen distribute``, ``ack`` and ``remind`` with --json against aiosmtpd; exit codes 0 / 2 / 3 / 4."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from models.directory import Directory
from storage.database import Database, sqlite_url
from storage.directory_store import save_directory
from storage.migrations import upgrade
from tests.flows.dispatch_helpers import ack_code, archived_notice, by_address
from tests.gongwen.cli_runner import run_json

REF = "汴打假〔2022〕3号"


@pytest.fixture
def home(tmp_path: Path, smtp, monkeypatch, kaifeng, notice, pins) -> tuple[Path, int]:
    """A home whose SQLite database holds the seed notice 已归档; mail goes to the test server."""
    home = tmp_path / "home"
    home.mkdir()
    for name, value in {
        "MAIL": "smtp",
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "MAIL_FROM": "djqqjm@kaifeng.example.cn",
        "MAIL_BACKOFF": "0",
    }.items():
        monkeypatch.setenv(f"GONGWEN_{name}", value)
    db = Database.from_url(sqlite_url(home / "gongwen.db"))
    upgrade(db.engine)
    document_id = archived_notice(db, kaifeng, notice, pins, home / "archive")
    db.dispose()
    return home, document_id


def test_distribute_ack_and_remind_through_the_cli(capsys, home, smtp):
    home, document_id = home
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert code == 0
    assert (data["state"], data["sent"], data["by_status"]) == ("dispatched", 32, {"sent": 32})
    assert data["by_role"] == {"主送": 20, "抄报": 3, "抄送": 9}
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert (code, data["sent"], len(smtp.recorder.received)) == (0, 0, 32)

    code, data = run_json(capsys, home, "ack", REF, "--recipient", "市公安局")
    assert (code, data["recipient"], data["status"], data["by"]) == (0, "开封市公安局", "acknowledged", "name")
    messages = by_address(smtp.messages())
    code_of_lankao = ack_code(messages["djqqjm.lankao@kaifeng.example.cn"])
    code, data = run_json(capsys, home, "ack", "--code", code_of_lankao)
    assert (code, data["recipient"]) == (0, "兰考县打击侵权假冒工作领导小组")
    assert run_json(capsys, home, "ack", "--code", code_of_lankao)[0] == 3  # reused
    code, data = run_json(capsys, home, "ack", "--code", "not-a-code")
    assert (code, data["field"]) == (3, "code") and "签收码无效" in data["error"]
    code, data = run_json(capsys, home, "ack", REF)
    assert (code, data["field"]) == (2, "recipient")

    smtp.recorder.received.clear()
    later = (dt.datetime.now() + dt.timedelta(days=4)).strftime("%Y-%m-%dT%H:%M:%S")
    code, data = run_json(capsys, home, "remind", "--at", later)
    assert code == 0
    assert len(data["reminded"]) == len(data["overdue"]) == len(smtp.recorder.received) == 30
    assert {row["recipient"] for row in data["overdue"]}.isdisjoint({"开封市公安局", "兰考县打击侵权假冒工作领导小组"})
    assert data["overdue"][0]["reminders"] == 1 and "code_hash" not in data["overdue"][0]  # the code stays secret
    code, data = run_json(capsys, home, "remind")  # now: nothing is overdue yet
    assert (code, data["reminded"], data["overdue"]) == (0, [], [])


def test_an_unknown_group_in_cc_exits_2_and_sends_nothing(capsys, home, smtp, kaifeng):
    home, document_id = home
    db = Database.from_url(sqlite_url(home / "gongwen.db"))
    with db.transaction() as session:
        groups = [g for g in kaifeng.groups if g.name != "各县（区）人民政府"]
        save_directory(session, directory=Directory(kaifeng.agencies, kaifeng.people, groups))
    db.dispose()
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert (code, data["field"]) == (2, "cc[0]") and "各县（区）人民政府" in data["error"]
    assert smtp.recorder.received == []


def test_a_mail_server_outage_exits_4_and_the_document_stays_archived(capsys, home, smtp):
    home, document_id = home
    smtp.stop()
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert code == 4 and f"gongwen distribute {document_id}" in data["error"]
    code, data = run_json(capsys, home, "show", str(document_id))
    assert data["state"] == "archived"
