"""The 审核单 answered by clicking in the Prefect UI, through the 门户, in headless Chromium.

A server of its own (the signer enrols his second factor here, which the shared server's other tests
may have done already): the signer 陈立新 signs in with a one-time password, chooses his own and enrols
TOTP (the secret read from the page, the code computed with pyotp); the notice is drafted and
submitted; 张伟, who is not its reviewer, opens the run's page in the V1 UI (the one with the Resume
button), picks 同意 and submits — the 门户's refusal (its Chinese detail) must be on the page, the run
still waits on the same form and the refusal is audited. (V1 shows the detail in a toast of its own,
beside a generic one: "Oops. Something went wrong.") Then 核稿 (李红梅), both 会签 (赵丽, 王强) and
签发 (陈立新, still signed in) are answered by clicking, each moving the run on, until the document is
registered and archived. A screenshot of each step goes to $GONGWEN_TEST_SCREENSHOTS, or else to
pytest's temporary directory; their paths are printed.

The enum of a form is a select of Prefect's design system: a mouse click on it does not open its list in
headless Chromium, so it is opened with the keyboard (Space, as a person may), and the option clicked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
import pytest
from sqlmodel import select

from models.sign_in_tables import SignInCredential
from tests.prefect.browser import browser_pages, chromium_missing
from tests.prefect.documents import archive_records, document, drafted_and_submitted
from tests.prefect.served import Served
from tests.prefect.test_two_doors import _entries
from tests.servers.requirements import needs

if TYPE_CHECKING:
    from playwright.sync_api import Page

SIGNER, REVIEWER, STRANGER, COSIGNERS = "陈立新", "李红梅", "张伟", ("赵丽", "王强")
PASSWORD = "一个足够长的新密码-2026"  # names no one, as the 门户 requires


@pytest.fixture(scope="module")
def office(tmp_path_factory, kaifeng) -> Iterator[Served]:
    server = Served(tmp_path_factory.mktemp("forms-in-browser"))
    server.load(kaifeng)
    server.start()
    yield server
    server.stop()


class Shots:
    """Numbered screenshots in one folder; each path printed."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.count = folder, 0

    def take(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path))
        print(f"screenshot: {path}")
        return path


def _signed_in(page: Page, served: Served, name: str, shots: Shots | None = None) -> Page:
    """A first sign-in at the 门户: a one-time password, the person's own, TOTP enrolment where the role
    needs it (signers, administrators); then the Prefect UI. Each step on a screenshot when ``shots``."""

    def step(label: str) -> None:
        if shots is not None:
            shots.take(page, f"{name}-{label}")

    page.goto(f"{served.gateway}/gateway/signin")
    page.fill("#name", name)
    page.fill("#password", served.one_time_password(name))
    step("signin")
    page.click("button[type=submit]")
    page.wait_for_url("**/gateway/password**")
    page.fill("#new", PASSWORD)
    page.fill("#again", PASSWORD)
    step("new-password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/gateway/totp" in page.url:
        assert page.locator("svg").count() > 0  # the QR code of the enrolment
        secret = page.locator("span.secret").inner_text().strip()
        page.fill("#code", pyotp.TOTP(secret).now())
        step("totp")
        page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/gateway/" not in url)
    page.get_by_text("Dashboard").first.wait_for(timeout=60_000)  # the UI has reached the API
    page.wait_for_load_state("networkidle")
    step("in-the-ui")
    assert any(cookie["name"] == "gongwen_session" for cookie in page.context.cookies())
    return page


def _answer(page: Page, served: Served, run_id: str, verdict: str, opinion: str) -> None:
    """Open the run's page (V1), click Resume, pick ``verdict``, type ``opinion``, click Submit."""
    page.goto(f"{served.gateway}/runs/flow-run/{run_id}")
    resume = page.get_by_role("button", name="Resume").first
    resume.wait_for(timeout=60_000)
    resume.click()
    modal = page.locator(".p-modal")
    choice = modal.locator(".p-select-button__control")
    choice.wait_for()
    choice.press(" ")  # a click does not open the list in headless Chromium; the keyboard does
    page.get_by_role("listbox").get_by_role("option", name=verdict, exact=True).click()
    modal.locator("textarea").fill(opinion)
    modal.get_by_role("button", name="Submit").click()


def _answered(page: Page, served: Served, run_id: str, shots: Shots, name: str) -> None:
    """``name`` answers the form the run waits on with 同意, by clicking; the run goes on to its next step."""
    desk = served.desk()
    key = desk.state(run_id).state_details.pause_key
    _answer(page, served, run_id, "同意", f"同意（{name}）")
    page.locator(".p-modal").wait_for(state="hidden", timeout=60_000)  # accepted: the form closes
    shots.take(page, f"answered-by-{name}")
    desk.wait(run_id, after_key=key)
    outcome = desk.outcome(run_id, key)
    assert outcome["accepted"], outcome


@needs(chromium_missing())
def test_the_forms_answered_by_clicking_through_the_gateway(office: Served, tmp_path_factory, tmp_path) -> None:
    folder = os.environ.get("GONGWEN_TEST_SCREENSHOTS")
    shots = Shots(Path(folder) if folder else tmp_path_factory.getbasetemp() / "forms-in-browser")
    with browser_pages() as new_page:
        signer = new_page()
        _signed_in(signer, office, SIGNER, shots)

        doc, run_id = drafted_and_submitted(office, tmp_path)
        desk = office.desk()
        waiting = desk.wait(run_id)
        assert waiting.is_paused(), waiting.name

        page = _signed_in(new_page(), office, STRANGER)  # someone not on the route tries the 核稿
        before = _entries(office, doc)
        _answer(page, office, run_id, "同意", "同意印发")
        toast = page.locator(".p-toast__message").filter(has_text=f"「{STRANGER}」")
        toast.first.wait_for(timeout=30_000)
        refusal = toast.first.inner_text().strip()
        shots.take(page, "refused-for-the-wrong-person")
        print(f"shown on the page: {refusal!r}")
        page.context.close()
        assert f"「{STRANGER}」不在本文的核稿人员中" in refusal
        after = _entries(office, doc)
        assert after[len(before) :] == [(STRANGER, "decision_refused", after[-1][2])]
        assert after[-1][2]["reason"] == refusal and after[-1][2]["field"] == "as"
        still = desk.state(run_id)
        assert still.is_paused() and still.state_details.pause_key == waiting.state_details.pause_key

        for name in (REVIEWER, *COSIGNERS):
            page = _signed_in(new_page(), office, name)
            _answered(page, office, run_id, shots, name)
            page.context.close()
        _answered(signer, office, run_id, shots, SIGNER)  # 签发, signed in with his TOTP at the start
        token = next(c["value"] for c in signer.context.cookies() if c["name"] == "gongwen_session")

    ref = desk.finished(run_id)
    archived = document(office, doc)
    assert archived.ref == ref and archived.state in {"archived", "dispatched"}, archived.state
    assert len(archive_records(office, doc)) == 1
    actions = [entry[1] for entry in _entries(office, doc)]
    assert actions.count("decision_refused") == 1 and actions.count("register") == 1

    # nothing secret reached the Prefect server's database on the way (the file and its WAL, as bytes): no PIN
    # field in any answer, no password, no TOTP secret, no session token
    with office.app.db.transaction() as session:
        totp = [row.totp_secret for row in session.exec(select(SignInCredential)) if row.totp_secret]
    stored = b"".join(path.read_bytes() for path in (office.home / "prefect").glob("prefect.db*"))
    assert len(totp) >= 2 and b'"pin"' not in stored
    assert [secret for secret in (PASSWORD, token, *totp) if secret.encode() in stored] == []
