"""Running the CLI in-process for tests: exit code and what it printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gongwen.cli import main


def run(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(home), *args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


def run_json(capsys, home: Path, *args: str) -> tuple[int, dict]:
    code, out, _ = run(capsys, home, "--json", *args)
    return code, json.loads(out)
