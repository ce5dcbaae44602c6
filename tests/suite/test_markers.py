"""Every marker is registered in pyproject.toml and a misspelt one is an error (``--strict-markers``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _collect(tmp_path: Path, marker: str) -> subprocess.CompletedProcess:
    test = tmp_path / "test_marked.py"
    test.write_text(f"import pytest\n\n\n@pytest.mark.{marker}\ndef test_marked():\n    pass\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(tmp_path)]
        + ["-m", "reliability or not reliability", "-p", "no:cacheprovider", "--collect-only", "-q", str(test)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("marker", ["reliability", "slow", "needs(None)", "skipif(False, reason='')"])
def test_a_registered_marker_is_collected(tmp_path, marker):
    result = _collect(tmp_path, marker)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_misspelt_marker_is_an_error(tmp_path):
    result = _collect(tmp_path, "slwo")
    assert result.returncode != 0
    assert "'slwo' not found in `markers` configuration option" in result.stdout + result.stderr
