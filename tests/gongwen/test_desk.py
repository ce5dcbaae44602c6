"""The staff's Prefect client (gongwen.desk): one connection per thread kept open, polling that backs off."""

from __future__ import annotations

import threading

import pytest

from gongwen import commands
from gongwen import desk as desk_module
from gongwen.desk import Desk
from models.errors import ServiceUnavailable


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
