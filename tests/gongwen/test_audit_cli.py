"""Auditors on the command line: archive, find, get (checked against the manifest), verify."""

from __future__ import annotations

import json
import stat

import pytest

from storage.archive.local import LocalArchiveStore
from storage.database import Database, sqlite_url
from storage.migrations import upgrade
from tests.gongwen.cli_runner import run, run_json
from tests.storage.archive.helpers import printed_document
from tests.storage.helpers import load, rewrite_chain

REF = "汴打假〔2022〕3号"


@pytest.fixture
def home(tmp_path, kaifeng, notice, pins):
    home = tmp_path / "home"
    home.mkdir()
    db = Database.from_url(sqlite_url(home / "gongwen.db"))
    upgrade(db.engine)
    load(db, kaifeng)
    printed_document(db, notice, pins)
    db.dispose()
    return home


def test_archive_find_get_and_verify(capsys, home, tmp_path):
    code, data = run_json(capsys, home, "archive", "1")
    assert (code, data["archive_code"]) == (0, "J001-WS·2022-D30-0001")
    code, data = run_json(capsys, home, "archive", "1")
    assert (code, data["archive_code"]) == (0, "J001-WS·2022-D30-0001")

    for criteria in (["--ref", REF], ["--year", "2022"], ["--issuer", "开封市打击"], ["--text", "宣传工作"]):
        code, data = run_json(capsys, home, "audit", "find", *criteria)
        assert (code, [r["ref"] for r in data["results"]]) == (0, [REF]), criteria
    assert run_json(capsys, home, "audit", "find", "--year", "2021")[1]["count"] == 0

    code, data = run_json(capsys, home, "audit", "get", REF, "-o", str(tmp_path / "out"))
    assert code == 0
    folder = tmp_path / "out" / "J001-WS·2022-D30-0001"
    assert sorted(p.name for p in folder.iterdir()) == [
        "audit-trail.json",
        "current-audit-trail.json",
        "document.docx",
        "document.pdf",
        "manifest.json",
        "metadata.json",
    ]
    assert json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["ref"] == REF
    assert run(capsys, home, "audit", "get", REF, "-o", str(tmp_path / "out"))[0] == 2

    code, data = run_json(capsys, home, "audit", "link", REF, "--minutes", "5")
    assert code == 0 and data["links"]["document.pdf"].startswith("file://")

    code, data = run_json(capsys, home, "audit", "verify", REF)
    assert (code, data["ok"]) == (0, True)
    assert {c["property"] for c in data["checks"]} == {"真实性", "完整性", "可用性", "安全性"}
    code, out, _ = run(capsys, home, "audit", "verify", "--all")
    assert code == 0 and "失败" not in out


def test_verify_names_a_tampered_file_and_exits_1(capsys, home):
    run_json(capsys, home, "archive", "1")
    [data_file] = (home / "archive" / "objects").rglob("document.pdf/*")
    data_file.chmod(stat.S_IWUSR | stat.S_IRUSR)
    data_file.write_bytes(data_file.read_bytes().replace(b"Notice", b"Forged"))
    code, data = run_json(capsys, home, "audit", "verify", "--all")
    assert code == 1
    failed = [c["name"] for c in data["checks"] if not c["ok"]]
    assert failed == ["固定性（SHA-256/SM3）"]


def test_anchor_then_a_rewritten_chain_fails_verify_naming_the_anchor(capsys, home):
    run_json(capsys, home, "archive", "1")
    code, data = run_json(capsys, home, "audit", "anchor")
    assert (code, data["anchored"], data["key"]) == (0, True, f"audit-anchors/{data['last_id']:012d}.json")
    code, out, _ = run(capsys, home, "audit", "anchor")
    assert code == 0 and f"#{data['last_id']}" in out  # the same head: the same anchor
    assert run_json(capsys, home, "audit", "verify", "--all")[0] == 0

    db = Database.from_url(sqlite_url(home / "gongwen.db"))
    backdated = {"at": "2022-05-01T08:00:00.000000+00:00"}  # 归档 said to be years earlier
    rewrite_chain(db, lambda rows: [row | backdated if row["action"] == "archive" else row for row in rows])
    db.dispose()
    code, data = run_json(capsys, home, "audit", "verify", "--all")
    assert code == 1
    assert [c["name"] for c in data["checks"] if not c["ok"]] == ["审计链锚点"]
    code, out, _ = run(capsys, home, "audit", "verify", REF)
    assert code == 1 and "失败 真实性·审计链锚点" in out and "审计链被改写" in out


def test_an_empty_audit_log_is_not_anchored(capsys, tmp_path):
    code, data = run_json(capsys, tmp_path / "fresh", "audit", "anchor")
    assert (code, data) == (0, {"anchored": False})


def test_get_and_verify_of_an_unknown_reference_exit_2(capsys, home):
    assert run(capsys, home, "audit", "get", "汴打假〔2022〕99号", "-o", "/tmp/x")[0] == 2
    assert run(capsys, home, "audit", "verify", "汴打假[2022]3号")[0] == 2


def test_the_lock_mode_comes_from_the_settings(capsys, home, monkeypatch):
    monkeypatch.setenv("GONGWEN_ARCHIVE_LOCK_MODE", "GOVERNANCE")
    code, data = run_json(capsys, home, "archive", "1")
    assert code == 0
    store = LocalArchiveStore(home / "archive")
    modes = {version.lock.mode for version in store.versions("J001/")}
    assert modes == {"GOVERNANCE"}


def test_a_bad_lock_mode_setting_exits_2(capsys, home, monkeypatch):
    monkeypatch.setenv("GONGWEN_ARCHIVE_LOCK_MODE", "NONE")
    code, data = run_json(capsys, home, "archive", "1")
    assert (code, data["field"]) == (2, "GONGWEN_ARCHIVE_LOCK_MODE")
