"""The 年度宣传工作 deployments on a real ``gongwen server``: submit-work-info's form records a report,
quarterly-circular drafts the 通报 in a served flow-run process, and the Prefect UI (headless
Chromium) shows the chart of its figures as an image from the markdown artifact.

Only drafts are made (the seed notice is made 2022's notice without being issued), so the shared
server's 发文字号 and runs stay as the other served tests expect them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from storage import work
from tests.conftest import EXAMPLE
from tests.prefect.browser import browser_page, capture, chromium_missing, sign_in
from tests.prefect.served import Served
from tests.servers.requirements import needs


@pytest.fixture(scope="module")
def circular(served: Served) -> dict:
    """2022's notice (the seed, a draft), a report through submit-work-info, then quarterly-circular."""
    drafter = ("--as", "郭佳佳", "--pin", "417305")
    drafted = served.cli("draft", str(EXAMPLE / "notice.yaml"), *drafter, "--json", check=True)
    notice_id = json.loads(drafted.stdout)["id"]
    work.open_year(served.app.db, year=2022, notice_id=notice_id, plans_due=dt.date(2022, 5, 31), actor="测试")
    desk = served.desk()
    report = desk.run_deployment(
        "submit-work-info/gongwen",
        {"unit": "市公安局", "title": "开封警方开展春雷行动", "date": "2022-05-06", "channel": "政务内网"},
    )
    assert desk.finished(report)["id"] >= 1
    run = desk.run_deployment("quarterly-circular/gongwen", {"year": 2022, "quarter": 2, "submit": False})
    result = desk.finished(run)
    assert (result["created"], result["units"]) == (True, 20) and result["chart_bytes"] > 1000
    return {"run": run, **result}


def test_the_served_run_drafts_the_circular_with_its_figures(served: Served, circular: dict) -> None:
    shown = served.cli("show", str(circular["id"]), "--json", check=True)
    data = json.loads(shown.stdout)
    assert (data["doc_type"], data["state"], data["title"]) == (
        "通报",
        "draft",
        "关于2022年第二季度打击侵权假冒工作信息报送情况的通报",
    )
    found = served.api("POST", "/artifacts/filter", {"artifacts": {"key": {"any_": ["circular-2022-q2-figures"]}}})
    [figures] = found
    assert json.loads(figures["data"])[0] == {
        "名次": 1,
        "单位": "市公安局",
        "报送信息": 1,
        "推送省办": 0,
        "省简报采用": 0,
        "国家网站采用": 0,
    }


@needs(chromium_missing())
def test_the_ui_shows_the_chart_as_an_image(served: Served, circular: dict, tmp_path_factory) -> None:
    [chart] = served.api("POST", "/artifacts/filter", {"artifacts": {"key": {"any_": ["circular-2022-q2-chart"]}}})
    assert chart["type"] == "markdown" and "](data:image/png;base64," in chart["data"]
    folder = Path(os.environ.get("GONGWEN_TEST_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "ui-browser")
    folder.mkdir(parents=True, exist_ok=True)
    screenshot = folder / "circular-chart.png"
    url = f"{served.gateway}/artifacts/artifact/{chart['id']}"
    with browser_page() as page:
        sign_in(page, served.gateway, "张伟", served.one_time_password("张伟"), new_password="核稿人自己的密码-2026")
        dom = capture(page, url, screenshot, shown="circular-2022-q2-chart")
    print(f"\n{url}\nscreenshot: {screenshot}")
    assert "Can't connect to Server API" not in dom
    assert 'src="data:image/png;base64,' in dom, f"no embedded chart on {url} (screenshot: {screenshot})"
