"""``gongwen distribute`` (with --retry-failed), ``settle``, ``ack`` and ``remind`` against aiosmtpd; exit codes 0 / 2 / 3 / 4."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from models.directory import Directory
from models.distribution import resolve_recipients
from models.tables import Delivery
from storage import deliveries
from storage.database import Database, sqlite_url
from storage.directory_store import save_directory
from storage.migrations import upgrade
from tests.flows.dispatch_helpers import ack_code, archived_notice, by_address
from tests.gongwen.cli_runner import run, run_json
from tests.servers.smtp import SMTP_LOGIN, SmtpServer

REF = "汴打假〔2022〕3号"
REGISTRAR = ("--as", "李红梅", "--pin", "582916")


def archived_home(folder: Path, server: SmtpServer, monkeypatch, kaifeng, notice, pins, **settings: str):
    """A home whose SQLite database holds the seed notice 已归档; mail goes to ``server`` (GONGWEN_ ``settings``)."""
    home = folder / "home"
    home.mkdir()
    for name, value in {
        "MAIL": "smtp",
        "SMTP_HOST": server.host,
        "SMTP_PORT": str(server.port),
        "MAIL_FROM": "djqqjm@kaifeng.example.cn",
        "MAIL_BACKOFF": "0",
        **settings,
    }.items():
        monkeypatch.setenv(f"GONGWEN_{name}", value)
    db = Database.from_url(sqlite_url(home / "gongwen.db"))
    upgrade(db.engine)
    document_id = archived_notice(db, kaifeng, notice, pins, home / "archive")
    db.dispose()
    return home, document_id


@pytest.fixture
def home(tmp_path: Path, smtp, monkeypatch, kaifeng, notice, pins) -> tuple[Path, int]:
    """The seed notice 已归档 in a home; mail goes to the plain test server."""
    return archived_home(tmp_path, smtp, monkeypatch, kaifeng, notice, pins)


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


def home_db(home: Path) -> Database:
    return Database.from_url(sqlite_url(home / "gongwen.db"))


def test_an_uncertain_delivery_is_settled_by_the_registrar_then_sent(capsys, home, smtp, kaifeng, notice):
    home, document_id = home
    db = home_db(home)
    deliveries.plan(
        db,
        document_id=document_id,
        recipients=resolve_recipients(kaifeng, to=notice.to, cc_report=notice.cc_report, cc=notice.cc),
    )
    [crashed] = deliveries.claim(db, document_id=document_id, limit=1, attached={})  # a run that died an hour ago
    with db.transaction() as session:
        row = session.get(Delivery, crashed.delivery_id)
        row.claimed_at -= dt.timedelta(hours=1)
        session.add(row)
    db.dispose()
    name = crashed.recipient.name
    code, out, _ = run(capsys, home, "distribute", str(document_id))
    assert code == 0 and f"发送状态不明（上次核发中断）：{name}" in out and f"gongwen settle {document_id}" in out

    assert run_json(capsys, home, "settle", REF, "--recipient", name, *REGISTRAR)[0] == 2  # --sent or --unsent
    code, data = run_json(capsys, home, "settle", REF, "--recipient", name, "--unsent", "--as", "李红梅", "--pin", "1")
    assert (code, data["field"]) == (3, "pin")
    code, data = run_json(capsys, home, "settle", REF, "--recipient", "开封市不存在局", "--unsent", *REGISTRAR)
    assert (code, data["field"]) == (2, "recipient")
    code, data = run_json(capsys, home, "settle", REF, "--recipient", name, "--unsent", *REGISTRAR)
    assert code == 0
    assert (data["recipient"], data["status"], data["outcome"], data["state"]) == (
        name,
        "pending",
        "unsent",
        "archived",
    )
    code, data = run_json(capsys, home, "settle", REF, "--recipient", name, "--sent", *REGISTRAR)
    assert (code, data["field"]) == (3, "recipient")  # no longer uncertain

    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert (code, data["sent"], data["state"], data["uncertain"]) == (0, 1, "dispatched", [])
    assert smtp.recipients().count(crashed.recipient.address) == 1 and len(smtp.recipients()) == 32
    code, data = run_json(capsys, home, "audit", "trail", REF)
    settled = [e for e in data["events"] if e["action"] == "settle"]
    assert [(e["actor"], '"outcome":"unsent"' in e["detail"]) for e in settled] == [("李红梅", True)]


def test_failed_deliveries_are_sent_again_with_retry_failed(capsys, home, smtp, kaifeng):
    home, document_id = home
    smtp.recorder.refuse = {"gaj@kaifeng.example.cn"}
    code, out, _ = run(capsys, home, "distribute", str(document_id))
    assert code == 0 and "失败 开封市公安局：邮件服务器拒收 gaj@kaifeng.example.cn：550" in out
    assert f"gongwen distribute {document_id} --retry-failed" in out
    db = home_db(home)
    agencies = [
        a.model_copy(update={"email": "gongan@kaifeng.example.cn"}) if a.name == "开封市公安局" else a
        for a in kaifeng.agencies
    ]
    with db.transaction() as session:
        save_directory(session, directory=Directory(agencies, kaifeng.people, kaifeng.groups))
    db.dispose()

    assert run_json(capsys, home, "distribute", str(document_id), "--retry-failed")[0] == 2  # who?
    assert run_json(capsys, home, "distribute", str(document_id), *REGISTRAR)[0] == 2  # --as without --retry-failed
    code, data = run_json(capsys, home, "distribute", str(document_id), "--retry-failed", *REGISTRAR)
    assert (code, data["sent"], data["state"], data["by_status"], data["failed"]) == (
        0,
        1,
        "dispatched",
        {"sent": 32},
        {},
    )
    [retried] = data["retried"]
    assert (retried["recipient"], retried["previous_address"], retried["address"]) == (
        "开封市公安局",
        "gaj@kaifeng.example.cn",
        "gongan@kaifeng.example.cn",
    )
    assert smtp.recipients()[-1] == "gongan@kaifeng.example.cn" and len(smtp.recipients()) == 32
    code, data = run_json(capsys, home, "distribute", str(document_id), "--retry-failed", *REGISTRAR)
    assert (code, data["field"]) == (3, "retry-failed") and "没有发送失败的分发" in data["error"]


def test_smtp_over_tls_with_login_and_a_private_ca_from_the_settings(
    capsys, tmp_path, smtp_tls, monkeypatch, kaifeng, notice, pins
):
    user, password = SMTP_LOGIN
    home, document_id = archived_home(
        tmp_path,
        smtp_tls,
        monkeypatch,
        kaifeng,
        notice,
        pins,
        SMTP_SECURITY=smtp_tls.security,
        SMTP_USER=user,
        SMTP_PASSWORD="wrong",
        SMTP_CA_FILE=str(tmp_path / "missing.pem"),
    )
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert (code, data["field"]) == (2, "GONGWEN_SMTP_CA_FILE") and "missing.pem" in data["error"]
    monkeypatch.setenv("GONGWEN_SMTP_CA_FILE", str(smtp_tls.certificates.ca))
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert (code, data["field"]) == (3, "credentials") and "535" in data["error"]
    assert f"尚有 32 份待发送；公文当前为已归档，请更正邮件设置后执行 gongwen distribute {document_id}" in data["error"]
    monkeypatch.setenv("GONGWEN_SMTP_PASSWORD", password)
    code, data = run_json(capsys, home, "distribute", str(document_id))
    assert (code, data["sent"], data["state"], data["uncertain"]) == (0, 32, "dispatched", [])
    assert smtp_tls.recorder.tls == [True] * 32 and smtp_tls.recorder.logins[-1].ok
