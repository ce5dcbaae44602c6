"""``gongwen demo``: the seed scenario through the Prefect server, in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_demo_in_a_fresh_process_issues_the_seed_notice_through_prefect(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "gongwen.cli", "--home", str(tmp_path), "--json", "demo"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(result.stdout)
    assert (data["ref"], data["archive_code"]) == ("汴打假〔2022〕3号", "J001-WS·2022-D30-0001")
    assert data["verified"] is True and data["deliveries"] == {"sent": 32}
    assert data["anchor"].startswith("audit-anchors/") and "审计链锚点" in result.stderr
    assert "核稿" in result.stderr and "修改单" in result.stderr and "会签 王强 同意" in result.stderr
    assert not list(tmp_path.glob("demo/*/prefect/*.lock"))  # the server was stopped
