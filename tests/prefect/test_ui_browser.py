"""The Prefect UI of ``gongwen server`` as a browser sees it, through the 门户.

``/ui-settings`` (read by both UI bundles before they call anything) must name the
API at the gateway's address, with no login of the UI's own. Then headless Chromium
(Playwright) signs the drafter in at the gateway — a one-time password, then their own — and
loads the page of a lifecycle run suspended on its first 审核单, in the V1 UI (the
one with the Resume button that opens the form) and the V2 UI (the default for a
browser without a saved preference): the rendered page must show the run's name,
its flow and the Suspended state (all of which the UI can only have got from the
API, and a UI that cannot reach it shows "Can't connect to Server API" instead),
and the screenshot must be a real picture of the requested size. The screenshots
are kept in pytest's temporary directory, or in $GONGWEN_TEST_SCREENSHOTS if set
(pytest keeps only its last three temporary directories); their paths are printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE
from tests.prefect.browser import HEIGHT, WIDTH, browser_page, capture, chromium_missing, read_png, sign_in
from tests.prefect.served import Served
from tests.servers.requirements import needs

DRAFTER = "郭佳佳"


@pytest.fixture(scope="module")
def suspended(served: Served) -> dict:
    """A lifecycle run waiting on its first 审核单, as the API describes it."""
    drafter = ("--as", "郭佳佳", "--pin", "417305")
    drafted = served.cli("draft", str(EXAMPLE / "notice.yaml"), *drafter, "--json")
    assert drafted.returncode == 0, drafted.stderr
    submitted = served.cli("submit", str(json.loads(drafted.stdout)["id"]), *drafter, "--json")
    assert submitted.returncode == 0, submitted.stderr
    run = served.api("GET", f"/flow_runs/{json.loads(submitted.stdout)['flow_run_id']}")
    assert run["state_name"] == "Suspended", run["state_name"]
    return run


def test_ui_settings_name_the_api_at_the_gateway(served: Served) -> None:
    settings = httpx.get(f"{served.prefect.ui_url}/ui-settings").json()  # what Prefect says behind the door
    assert settings["auth"] == "BASIC"  # it requires its auth string …
    with httpx.Client(base_url=served.gateway) as anonymous:
        assert anonymous.get("/ui-settings").status_code == 401  # … and the gateway a signed-in person
    assert set(settings["available_uis"]) == {"v1", "v2"}


# The page of each UI, and what it shows besides the run's name, flow and state.
UIS = {"v1": ("", ["Resume"]), "v2": ("/v2", [])}


@needs(chromium_missing())
@pytest.mark.parametrize("ui", list(UIS))
def test_flow_run_page_in_chromium(served: Served, suspended: dict, tmp_path_factory, ui: str) -> None:
    prefix, shown = UIS[ui]
    folder = Path(os.environ.get("GONGWEN_TEST_SCREENSHOTS") or tmp_path_factory.getbasetemp() / "ui-browser")
    folder.mkdir(parents=True, exist_ok=True)
    screenshot = folder / f"flow-run-{ui}.png"
    url = f"{served.gateway}{prefix}/runs/flow-run/{suspended['id']}"
    with browser_page() as page:
        sign_in(page, served.gateway, DRAFTER, served.one_time_password(DRAFTER), new_password="拟稿人自己的密码-2026")
        page.screenshot(path=str(folder / f"signed-in-{ui}.png"))
        dom = capture(page, url, screenshot, shown=suspended["name"])
    print(f"\n{url}\nscreenshot: {screenshot}")

    assert "Can't connect to Server API" not in dom, f"the UI does not reach the API (screenshot: {screenshot})"
    for text in [suspended["name"], "document-lifecycle", "Suspended", *shown]:
        assert text in dom, f"{text!r} is not on the page {url} (screenshot: {screenshot})"

    png = read_png(screenshot)
    assert (png.width, png.height) == (WIDTH, HEIGHT)
    colours = png.colours()
    commonest = colours.most_common(1)[0][1] / (png.width * png.height)
    # the UI's dark theme leaves most of a run's page one colour (91% seen); a blank page is all of one
    assert len(colours) > 200 and commonest < 0.97, (
        f"{screenshot} looks blank: {len(colours)} colours, {commonest:.0%} of it one colour"
    )
