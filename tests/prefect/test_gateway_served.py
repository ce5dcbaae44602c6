"""门户 against a real ``gongwen server`` (its Prefect server behind the gateway, with an auth string):
sign-in with a one-time password, a new password and TOTP; the session cookie; what each role may reach;
refusals audited; CSRF; the command line's token; the Prefect server refusing anyone without the auth string."""

from __future__ import annotations

import json
import re
import time

import httpx
import pyotp
from sqlmodel import select

from models.sign_in_tables import SignInCredential
from models.tables import AuditEvent
from tests.prefect.served import Served

DRAFTER, SIGNER = "郭佳佳", "陈立新"
NEW_PASSWORD = "一个足够长的新密码-2026"


def _csrf(page: httpx.Response) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text)[1]


def sign_in(served: Served, name: str) -> tuple[httpx.Client, str | None]:
    """A browser-like client signed in as ``name`` (one-time password, new password, TOTP where the role
    needs it); the client and the person's TOTP secret (None without)."""
    one_time = served.one_time_password(name)
    client = httpx.Client(base_url=served.gateway, timeout=30)
    page = client.get("/gateway/signin")
    answer = client.post(
        "/gateway/signin", data={"csrf": _csrf(page), "next": "/runs", "name": name, "password": one_time}
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/gateway/password")
    page = client.get(answer.headers["location"])
    answer = client.post(
        "/gateway/password", data={"csrf": _csrf(page), "next": "/runs", "new": NEW_PASSWORD, "again": NEW_PASSWORD}
    )
    secret = None
    if answer.headers["location"].startswith("/gateway/totp"):
        page = client.get(answer.headers["location"])
        assert "<svg" in page.text  # the QR code of the enrolment
        secret = re.search(r'class="secret">([A-Z2-7]+)<', page.text)[1]
        answer = client.post(
            "/gateway/totp", data={"csrf": _csrf(page), "next": "/runs", "code": pyotp.TOTP(secret).now()}
        )
    assert answer.status_code == 303 and answer.headers["location"] == "/runs"
    assert "gongwen_session" in client.cookies
    return client, secret


def audited(served: Served, action: str, actor: str) -> list[dict]:
    with served.app.db.transaction() as session:
        query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor == actor)
        return [json.loads(event.detail) for event in session.exec(query)]


def test_nothing_passes_without_sign_in(served: Served) -> None:
    with httpx.Client(base_url=served.gateway) as anonymous:
        page = anonymous.get("/runs", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/gateway/signin?next=/runs"
        refused = anonymous.post("/api/flow_runs/filter", json={})
        assert refused.status_code == 401 and refused.json()["detail"] == "请先登录门户"
        assert anonymous.get("/gateway/health").text == "ok"
        assert "登录" in anonymous.get("/gateway/signin").text


def test_the_prefect_server_refuses_anyone_without_its_auth_string(served: Served) -> None:
    direct = httpx.post(f"{served.prefect.api_url}/flow_runs/filter", json={})
    assert direct.status_code == 401
    with_it = httpx.post(
        f"{served.prefect.api_url}/flow_runs/filter",
        json={},
        auth=tuple(served.env["PREFECT_API_AUTH_STRING"].split(":", 1)),
    )
    assert with_it.status_code == 200


def test_a_signer_signs_in_with_totp_and_reaches_what_staff_may(served: Served) -> None:
    client, secret = sign_in(served, SIGNER)
    assert secret is not None  # 签发 needs the second factor
    page = client.get("/runs", headers={"Accept": "text/html"})
    assert "<html" in page.text.lower()  # the Prefect UI, through the gateway
    settings = client.get("/ui-settings").json()
    assert settings["api_url"] == f"{served.gateway}/api" and settings["auth"] is None
    assert client.post("/api/flow_runs/filter", json={}).status_code == 200
    assert client.post("/api/deployments/filter", json={}).status_code == 200
    refused = client.post("/api/variables/", json={"name": "x", "value": "y"})
    assert refused.status_code == 403 and re.search(r"[\u4e00-\u9fff]", refused.json()["detail"])
    assert any(entry["path"] == "/api/variables/" for entry in audited(served, "access_refused", SIGNER))
    client.post("/gateway/signout", data={"csrf": client.cookies.get("gongwen_csrf", path="/gateway")})
    assert client.post("/api/flow_runs/filter", json={}).status_code == 401


def test_wrong_password_and_stale_form_are_refused_and_audited(served: Served) -> None:
    with httpx.Client(base_url=served.gateway) as client:
        page = client.get("/gateway/signin")
        wrong = client.post(
            "/gateway/signin",
            data={"csrf": _csrf(page), "next": "/", "name": "张伟", "password": "猜一个密码猜一个密码"},
        )
        assert wrong.status_code == 401 and "姓名或密码不正确" in wrong.text
        assert "gongwen_session" not in client.cookies
        forged = client.post("/gateway/signin", data={"csrf": "forged", "next": "/", "name": "张伟", "password": "x"})
        assert forged.status_code == 403
    assert audited(served, "sign_in_refused", "张伟")[-1] == {"step": "password", "reason": "姓名或密码不正确"}


def test_a_used_totp_code_is_refused(served: Served) -> None:
    _, secret = sign_in(served, "刘志强")
    with served.app.db.transaction() as session:
        used_step = session.get(SignInCredential, "刘志强").totp_last_step
    code = pyotp.TOTP(secret).generate_otp(used_step)  # the code the sign-in above gave
    with httpx.Client(base_url=served.gateway) as again:
        page = again.get("/gateway/signin")
        answer = again.post(
            "/gateway/signin", data={"csrf": _csrf(page), "next": "/", "name": "刘志强", "password": NEW_PASSWORD}
        )
        page = again.get(answer.headers["location"])
        assert "<svg" not in page.text  # enrolled: only the code is asked
        used = again.post("/gateway/totp", data={"csrf": _csrf(page), "next": "/", "code": code})
        assert used.status_code == 401 and "已使用" in used.text
        assert "gongwen_session" not in again.cookies


def test_the_command_line_gets_a_token_and_cross_site_writes_are_refused(served: Served) -> None:
    sign_in(served, DRAFTER)  # first in a browser: the one-time password is changed there
    with httpx.Client(base_url=served.gateway) as cli:
        wrong = cli.post("/gateway/token", json={"name": DRAFTER, "password": "不对的密码不对的密码"})
        assert wrong.status_code == 401
        token = cli.post("/gateway/token", json={"name": DRAFTER, "password": NEW_PASSWORD}).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert cli.post("/api/flow_runs/filter", json={}, headers=bearer).status_code == 200
        foreign = cli.post("/api/flow_runs/filter", json={}, headers=bearer | {"Origin": "https://evil.example"})
        assert foreign.status_code == 403


def test_no_password_or_token_reaches_the_prefect_database(served: Served) -> None:
    client, _ = sign_in(served, "赵丽")
    client.post("/api/flow_runs/filter", json={})
    token = client.cookies["gongwen_session"]
    time.sleep(1)
    prefect = served.home / "prefect"
    stored = b"".join(path.read_bytes() for path in prefect.glob("prefect.db*"))
    for secret in (NEW_PASSWORD, token):
        assert secret.encode() not in stored


def test_five_wrong_passwords_lock_the_person_even_against_the_right_one(served: Served) -> None:
    client, _ = sign_in(served, "王强")
    client.close()
    with httpx.Client(base_url=served.gateway) as again:
        for attempt in range(6):
            page = again.get("/gateway/signin")
            password = NEW_PASSWORD if attempt == 5 else f"错误的密码-{attempt}-abcdef"
            answer = again.post(
                "/gateway/signin", data={"csrf": _csrf(page), "next": "/", "name": "王强", "password": password}
            )
            assert answer.status_code == 401
        assert "连续 5 次 PIN 或密码错误，已锁定至" in answer.text
        assert "gongwen_session" not in again.cookies
    [locked] = audited(served, "pin_locked", "王强")
    assert locked["via"] == "门户"
