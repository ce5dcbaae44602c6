"""The layers' import contracts (pyproject.toml, [tool.importlinter]; README, Architecture): models imports no
IO library, storage, delivery and doc_templates never reach up into actions, flows or gongwen, actions stay free
of Prefect, flows never import the command line. ``lint-imports`` checks them on the code as it is."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_import_contract_is_kept():
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"Contracts: {len(settings['contracts'])} kept, 0 broken." in output, output  # every contract was checked
