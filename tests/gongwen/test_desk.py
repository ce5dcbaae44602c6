"""The staff's Prefect client (gongwen.desk): one connection per thread kept open, polling that backs off."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from gongwen import commands
from gongwen import desk as desk_module
from gongwen.desk import Desk
from models.errors import ServiceUnavailable, StillWaiting
from tests.gongwen.cli_runner import run, run_json
from tests.gongwen.test_cli import DRAFTER, snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kaifeng"


def test_a_desk_keeps_one_client_per_thread_until_closed():
    desk = Desk("http://127.0.0.1:9/api")
    first = desk._client()
    assert desk._client() is first
    other = []
    thread = threading.Thread(target=lambda: other.append(desk._client()))
    thread.start()
    thread.join()
    assert other[0] is not first
    desk.close()
    assert desk._client() is not first
    desk.close()


def test_an_unreachable_server_is_service_unavailable_and_the_next_call_opens_a_new_client():
    desk = Desk("http://127.0.0.1:9/api")  # the discard port: nothing listens
    first = desk._client()
    with pytest.raises(ServiceUnavailable, match="无法连接 Prefect 服务器"):
        desk._call(lambda client: client.hello())
    assert desk._client() is not first
    desk.close()


def test_polling_starts_quick_and_backs_off_to_once_a_second(monkeypatch):
    pauses = []
    monkeypatch.setattr(desk_module.time, "sleep", pauses.append)
    answers = iter([None] * 7 + ["done"])
    assert desk_module._poll(lambda: next(answers), 60, "测试") == "done"
    assert pauses == [0.25, 0.375, 0.5625, 0.84375, 1.0, 1.0, 1.0]


def test_the_cli_waits_for_a_flow_run_as_long_as_gongwen_wait_seconds_says(monkeypatch, tmp_path):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")
    monkeypatch.setenv("GONGWEN_WAIT_SECONDS", "900")
    desk = commands._desk(commands.Context(home=tmp_path, out=None))
    assert (desk.api_url, desk.timeout) == ("http://127.0.0.1:9/api", 900)


class BusyServer:
    """A Prefect server that creates the run but does not start it within the desk's patience."""

    timeout = 5.0
    RUN = "5e1f6a52-0000-4000-8000-000000000001"

    def whoami(self):
        return DRAFTER[1]  # the drafter, signed in at the 门户

    def deployment(self, name):
        return "5e1f6a52-0000-4000-8000-00000000000d"

    def run_deployment(self, name, parameters):
        self.started = (name, parameters)
        return self.RUN

    def wait(self, run_id, *, after_key=None):
        return desk_module._poll(lambda: None, 0, f"流程运行 {run_id} 处理完毕")

    def state(self, run_id):
        return SimpleNamespace(is_final=lambda: False)  # scheduled, not started


def test_submit_on_a_busy_server_reports_the_created_run_and_exits_0(monkeypatch, capsys, tmp_path):
    """The run exists and will 送审 the document and carry it on when it starts: a failure exit would have
    the person submit again."""
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    _, drafted = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    busy = BusyServer()
    monkeypatch.setattr(commands, "_desk", lambda ctx: busy)
    code, data = run_json(capsys, home, "submit", str(drafted["id"]))
    assert code == 0
    assert busy.started == ("document-lifecycle/gongwen", {"document_id": drafted["id"]})
    assert data == {
        "id": drafted["id"],
        "state": "draft",  # the run 送审s it, as the person signed in, when it starts
        "flow_run_id": BusyServer.RUN,
        "waiting_for": [],
        "run_started": False,
    }


def test_a_run_that_does_not_answer_in_time_is_still_waiting_not_a_server_down():
    with pytest.raises(StillWaiting, match="0 秒内未等到：测试"):
        desk_module._poll(lambda: None, 0, "测试")


def test_submit_with_the_server_down_writes_nothing_and_exits_4(monkeypatch, capsys, tmp_path):
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    _, drafted = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    before = snapshot(home)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # the discard port: nothing listens
    code, data = run_json(capsys, home, "submit", str(drafted["id"]), *DRAFTER)
    assert (code, "无法连接 Prefect 服务器" in data["error"]) == (4, True), data
    assert snapshot(home) == before  # still a 草稿, nothing audited


class DownAfterSubmit(BusyServer):
    """A server reached before 送审 that then fails to create the run (it went down in between)."""

    def run_deployment(self, name, parameters):
        raise ServiceUnavailable("无法连接 Prefect 服务器 http://127.0.0.1:9/api：连接被拒绝")


def test_a_run_not_created_leaves_the_draft_as_it_was(monkeypatch, capsys, tmp_path):
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    _, drafted = run_json(capsys, home, "draft", str(EXAMPLE / "notice.yaml"), *DRAFTER)
    before = snapshot(home)
    monkeypatch.setattr(commands, "_desk", lambda ctx: DownAfterSubmit())
    code, data = run_json(capsys, home, "submit", str(drafted["id"]))
    assert code == 4 and "公文仍为草稿" in data["error"], data
    assert snapshot(home) == before
