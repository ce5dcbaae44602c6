"""印制's converter from the command line: a batch issued in local mode prints on one LibreOffice,
``gongwen converter serve`` is the PDF conversion service the CLI prints through, and its settings are
checked like the others."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from doc_templates import pdf
from doc_templates.pdf_service import ConverterClient
from gongwen.app import App
from gongwen.settings import load_settings
from tests.doc_templates.conftest import SOFFICE_MISSING
from tests.gongwen.cli_runner import run_json
from tests.servers.requirements import needs
from tests.storage.helpers import signed_document

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kaifeng"
GONGWEN = str(Path(sys.executable).with_name("gongwen"))


@pytest.fixture
def home(tmp_path: Path, capsys) -> Path:
    home = tmp_path / "home"
    code, _ = run_json(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))
    assert code == 0
    return home


@needs(SOFFICE_MISSING)
def test_a_batch_issued_in_local_mode_prints_on_one_converter_closed_at_the_end(
    capsys, home, notice, pins, tmp_path, monkeypatch
):
    db = App(load_settings(home=home)).db
    ids = [signed_document(db, notice, pins).id for _ in range(2)]
    started, closed = [], []
    start, close = pdf.PersistentConverter.__init__, pdf.PersistentConverter.close
    monkeypatch.setattr(pdf.PersistentConverter, "__init__", lambda self, *a, **k: started.append(start(self, *a, **k)))
    monkeypatch.setattr(pdf.PersistentConverter, "close", lambda self: closed.append(close(self)))
    code, data = run_json(capsys, home, "issue", *map(str, ids), "-o", str(tmp_path / "out"))
    assert code == 0, data
    assert [entry["id"] for entry in data["issued"]] == ids
    assert [entry["ref"] for entry in data["issued"]] == ["汴打假〔2022〕3号", "汴打假〔2022〕4号"]
    assert [entry["pages"] for entry in data["issued"]] == [7, 7]
    assert {Path(p).parent.name for p in data["issued"][1]["files"]} == {str(ids[1])}
    assert (len(started), len(closed)) == (1, 1)  # one LibreOffice for the batch, stopped at the end


def test_the_converter_settings_are_checked_and_name_the_variable(capsys, home, monkeypatch):
    for name, value, reason in [
        ("GONGWEN_CONVERTERS", "0", "应 ≥ 1"),
        ("GONGWEN_CONVERTER_TIMEOUT", "0", "应 > 0"),
        ("GONGWEN_CONVERTER_RECYCLE", "x", "应为整数"),
        ("GONGWEN_CONVERTER_TIMEOUT", "一分钟", "应为数字"),
        ("GONGWEN_CONVERTER_URL", "localhost:4300", "应为 http://主机:端口"),
    ]:
        with monkeypatch.context() as env:
            env.setenv(name, value)
            code, error = run_json(capsys, home, "issue", "1")
        assert (code, error["field"]) == (2, name)
        assert reason in error["error"]


def test_flow_runs_get_the_services_client_only_when_a_service_is_set(home, monkeypatch):
    assert App(load_settings(home=home)).services().converter is None
    monkeypatch.setenv("GONGWEN_CONVERTER_URL", "http://127.0.0.1:4300")
    monkeypatch.setenv("GONGWEN_CONVERTER_TIMEOUT", "30")
    converter = App(load_settings(home=home)).services().converter
    assert isinstance(converter, ConverterClient) and converter.url == "http://127.0.0.1:4300"


@needs(SOFFICE_MISSING)
def test_converter_serve_is_the_service_the_cli_prints_through(home, tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("GONGWEN_")}
    env |= {"GONGWEN_CONVERTERS": "1"}
    service = subprocess.Popen(
        [GONGWEN, "--home", str(home), "--json", "converter", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        started = json.loads(service.stdout.readline())
        assert started["converters"] == 1
        url = started["url"]
        printed = subprocess.run(
            [GONGWEN, "--home", str(home), "--json", "render", str(EXAMPLE / "notice.yaml")]
            + ["-o", str(tmp_path / "n.docx"), "--pdf", str(tmp_path / "n.pdf"), "--pdfa"],
            env=env | {"GONGWEN_CONVERTER_URL": url},
            capture_output=True,
            text=True,
        )
        assert printed.returncode == 0, printed.stderr
        assert json.loads(printed.stdout)["pages"] == 7
        assert "改用逐份启动" not in printed.stderr  # it did reach the service
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            assert json.loads(response.read())["converted"] == 1
    finally:
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=60) == 0  # stopped, its LibreOffice closed
