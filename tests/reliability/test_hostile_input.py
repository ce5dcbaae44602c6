"""Hostile input: every case of the corpus (tests/reliability/hostile) through the real CLI.

A refused case must exit 2 with the field named (the ``--json`` error's ``field``, and the text on
stderr), print no traceback, and write nothing: every row of every table and every file of the home
are the same afterwards, and no output file (``render -o``) appears. Specs go through ``draft``,
``render`` and ``revise``, directory files through ``org load``. A ``literal`` case is unusual but
legitimate text (braces, ``<``, ``&`` in a title): ``render`` must print it exactly as written.
A sample of cases also runs as real ``gongwen`` processes, on PostgreSQL, so that anything the
interpreter prints on its way out would be seen.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from doc_templates.reading import docx_text
from gongwen.cli import main
from tests.conftest import drop_postgres_schema, needs_postgres, postgres_schema_url
from tests.reliability.hostile_helpers import EXAMPLE, Case, database_rows, folder_files, load_cases

SPEC_CASES = load_cases("specs", "spec")
DIRECTORY_CASES = load_cases("directories", "directory")
REFUSED = [c for c in SPEC_CASES + DIRECTORY_CASES if c.outcome == "refused"]
LITERAL = [c for c in SPEC_CASES if c.outcome == "literal"]
DRAFTER = ("--as", "郭佳佳", "--pin", "417305")  # the drafter and her PIN (examples/kaifeng/directory.yaml)
#: Cases run as real processes: one of each kind of trouble.
PROCESS_SAMPLE = (
    "nul-in-title",
    "bidi-override-in-title",
    "explicit-tag-bad-int",
    "key-is-a-number",
    "billion-laughs",
    "deep-lists",
    "ten-megabytes",
    "gbk-encoded",
    "utf16-bom",
    "duplicate-key-title",
    "tab-indentation",
    "two-documents",
    "date-feb-30-unquoted",
    "ref-square-brackets",
    "request-two-recipients",
    "title-python-tag",
    "directory-email-chinese-local-part",
    "directory-duplicate-code",
    "directory-group-cycle",
    "directory-bomb",
)


def _run(home: Path, *args: str) -> tuple[int, str, str]:
    """The CLI in-process (as tests/gongwen/cli_runner.py), with stdout and stderr captured by hand."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        with pytest.raises(SystemExit) as exit_info:
            main(["--home", str(home), *args])
    return exit_info.value.code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory, pins: dict[str, str]) -> Path:
    """A home with the seed directory, draft 1 (a 草稿 that ``revise`` may change) and document 2 issued:
    its archive package, its 32 messages in the outbox and its printed copies are files that must not change."""
    home = tmp_path_factory.mktemp("hostile") / "home"
    notice = str(EXAMPLE / "notice.yaml")
    for command in (
        ["org", "load", str(EXAMPLE / "directory.yaml")],
        ["draft", notice, *DRAFTER],
        ["draft", notice, *DRAFTER],
        ["submit", "2", *DRAFTER],
        ["decide", "2", "--as", "李红梅", "--pin", pins["李红梅"], "--approve"],
        ["decide", "2", "--as", "陈立新", "--pin", pins["陈立新"], "--approve"],
        ["issue", "2"],
    ):
        code, stdout, stderr = _run(home, *command)
        assert code == 0, (command, stdout, stderr)
    assert {p.parent.name for p in home.rglob("*.eml")} == {"outbox"} and any((home / "archive").rglob("*.pdf"))
    return home


def _command_line(command: str, path: Path, out: Path) -> list[str]:
    return {
        "draft": ["draft", str(path), *DRAFTER],
        "render": ["render", str(path), "-o", str(out / "out.docx"), "--pdf", str(out / "out.pdf")],
        "revise": ["revise", "1", str(path), *DRAFTER],
        "org load": ["org", "load", str(path)],
    }[command]


def _state(home: Path) -> tuple[dict, dict]:
    return database_rows(f"sqlite:///{home / 'gongwen.db'}"), folder_files(home)


def _write(case: Case, folder: Path) -> Path:
    path = folder / f"{case.id}.yaml"
    path.write_bytes(case.content())
    return path


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: c.id)
def test_hostile_input_is_refused_naming_the_field(case: Case, desk: Path, tmp_path: Path) -> None:
    path = _write(case, tmp_path)
    out = tmp_path / "out"
    before = _state(desk)
    for command in case.commands:
        code, stdout, stderr = _run(desk, "--json", *_command_line(command, path, out))
        assert "Traceback" not in stdout + stderr
        assert code == 2, f"{command}: exit {code}, {stdout}{stderr}"
        error = json.loads(stdout)
        assert error["field"] == case.field, f"{command}: {error}"
        assert error["error"], command
        if case.reason:
            assert case.reason in error["error"], f"{command}: {error}"
    code, stdout, stderr = _run(desk, *_command_line(case.commands[-1], path, out))
    assert (code, stdout) == (2, "")
    assert stderr.startswith(f"错误：{case.field}：") and "Traceback" not in stderr
    assert _state(desk) == before, f"{case.commands} wrote something"
    assert not out.exists(), f"{case.commands} created an output file"


@pytest.mark.parametrize("case", LITERAL, ids=lambda c: c.id)
def test_unusual_text_is_printed_literally(case: Case, desk: Path, tmp_path: Path) -> None:
    path = _write(case, tmp_path)
    before = _state(desk)
    code, stdout, stderr = _run(desk, "--json", "render", str(path), "-o", str(tmp_path / "out.docx"))
    assert code == 0, stdout + stderr
    assert _state(desk) == before
    text = docx_text((tmp_path / "out.docx").read_bytes())
    assert case.shows in text


def test_the_corpus_is_large_and_its_ids_unique() -> None:
    ids = [c.id for c in SPEC_CASES + DIRECTORY_CASES]
    assert len(set(ids)) == len(ids)
    assert len(ids) >= 300
    assert set(PROCESS_SAMPLE) <= {c.id for c in REFUSED}


def _gongwen_process(home: Path, database: str, args: list[str]) -> subprocess.CompletedProcess:
    environment = {**os.environ, "GONGWEN_DATABASE_URL": database, "PYTHONUNBUFFERED": "1"}
    gongwen = Path(sys.executable).parent / "gongwen"
    return subprocess.run(
        [str(gongwen), "--home", str(home), "--json", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


@needs_postgres
def test_sample_as_real_processes_on_postgresql(tmp_path: Path) -> None:
    schema, url = postgres_schema_url()
    try:
        home = tmp_path / "home"
        loaded = _gongwen_process(home, url, ["org", "load", str(EXAMPLE / "directory.yaml")])
        assert loaded.returncode == 0, loaded.stderr
        cases = [c for c in REFUSED if c.id in PROCESS_SAMPLE]
        runs = [(c, _command_line(c.commands[0], _write(c, tmp_path), tmp_path / "out")) for c in cases]
        before = database_rows(url), folder_files(home)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda run: _gongwen_process(home, url, run[1]), runs))
        for (case, _), result in zip(runs, results, strict=True):
            assert "Traceback" not in result.stdout + result.stderr, case.id
            assert result.returncode == 2, (case.id, result.stdout, result.stderr)
            assert json.loads(result.stdout)["field"] == case.field, case.id
        assert (database_rows(url), folder_files(home)) == before
        assert not (tmp_path / "out").exists()
    finally:
        drop_postgres_schema(schema)
