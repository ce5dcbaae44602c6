"""登录: the 门户's sign-in — name and password, a new password after a one-time one, the TOTP code —
and the session it ends with (a cookie for a browser, a token for the command line).

Between the steps the person is carried by a short-lived signed cookie (itsdangerous; five minutes),
never by a session; only the last step starts one. Each of the gateway's forms carries a CSRF token
equal to the ``gongwen_csrf`` cookie (double submit; the cookies are SameSite=Strict). Every refusal
is audited (``sign_in_refused``, with the step and the reason), every sign-in and sign-out too. A
wrong name and a wrong password get the same answer; wrong passwords count toward the person's lock
with wrong PINs (storage.pin_lockout: 5 in 15 minutes lock them for 15 minutes).
"""

from __future__ import annotations

import io
import secrets
from typing import Any

import qrcode
import qrcode.image.svg
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gongwen.gateway import pages
from gongwen.gateway.config import GatewayConfig
from models.errors import InputError, RefusedDecision
from storage import audit_log, credentials, pin_lockout, sign_in_sessions
from storage.directory_store import find_person

SESSION_COOKIE, STEP_COOKIE, CSRF_COOKIE = "gongwen_session", "gongwen_signin", "gongwen_csrf"
STEP_SECONDS = 300
WRONG = "姓名或密码不正确"


class SignIn:
    """The sign-in routes of one gateway."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.steps = URLSafeTimedSerializer(config.secret_key, salt="gongwen-signin-step")

    def routes(self) -> list[Route]:
        return [
            Route("/gateway/signin", self.sign_in_page, methods=["GET"]),
            Route("/gateway/signin", self.sign_in, methods=["POST"]),
            Route("/gateway/password", self.password_page, methods=["GET"]),
            Route("/gateway/password", self.password, methods=["POST"]),
            Route("/gateway/totp", self.totp_page, methods=["GET"]),
            Route("/gateway/totp", self.totp, methods=["POST"]),
            Route("/gateway/signout", self.sign_out, methods=["POST"]),
            Route("/gateway/token", self.token, methods=["POST"]),
        ]

    # -- the pages -------------------------------------------------------------------------------

    async def sign_in_page(self, request: Request) -> Response:
        return self._html(request, lambda csrf: pages.sign_in(csrf=csrf, next_path=_next(request)))

    async def sign_in(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        name, password = form.get("name", "").strip(), form.get("password", "")
        checked = await run_in_threadpool(self._check_password, name, password)
        if isinstance(checked, str):
            page = lambda csrf: pages.sign_in(csrf=csrf, next_path=form["next"], error=checked, name=name)  # noqa: E731
            return self._html(request, page, 401)
        return self._after_password(checked, form["next"])

    async def password_page(self, request: Request) -> Response:
        name = self._step(request, "change")
        if name is None:
            return _restart(request)
        return self._html(request, lambda csrf: pages.change_password(csrf=csrf, next_path=_next(request), name=name))

    async def password(self, request: Request) -> Response:
        posted = await self._posted_at(request, "change")
        if isinstance(posted, Response):
            return posted
        form, name = posted
        error = await run_in_threadpool(self._choose_password, name, form.get("new", ""), form.get("again", ""))
        if error:
            page = lambda csrf: pages.change_password(csrf=csrf, next_path=form["next"], name=name, error=error)  # noqa: E731
            return self._html(request, page, 400)
        checked = credentials.PasswordCheck(name, must_change=False, totp_enrolled=await self._enrolled(name))
        return self._after_password(checked, form["next"])

    async def totp_page(self, request: Request, error: str | None = None, status: int = 200) -> Response:
        name = self._step(request, "totp")
        if name is None:
            return _restart(request)
        uri = await run_in_threadpool(self._enrolment, name)
        qr, secret = (_qr_svg(uri), _secret_of(uri)) if uri else (None, None)
        page = lambda csrf: pages.totp(  # noqa: E731
            csrf=csrf, next_path=_next(request), name=name, qr_svg=qr, secret=secret, error=error
        )
        return self._html(request, page, status)

    async def totp(self, request: Request) -> Response:
        posted = await self._posted_at(request, "totp")
        if isinstance(posted, Response):
            return posted
        form, name = posted
        if not await run_in_threadpool(self._check_totp, name, form.get("code", "")):
            request.scope["query_string"] = f"next={form['next']}".encode()
            return await self.totp_page(request, error="动态口令不正确或已使用，请输入新的口令", status=401)
        return await self._signed_in(name, form["next"])

    async def sign_out(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await run_in_threadpool(self._end, token)
        response = RedirectResponse("/gateway/signin", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def token(self, request: Request) -> Response:
        """``gongwen login``: name, password and (where required) the TOTP code in one JSON request; a
        command-line session token. A one-time password or a factor not yet enrolled is refused: that
        is done once in a browser."""
        try:
            body = await request.json()
            name, password, code = str(body["name"]), str(body["password"]), str(body.get("code") or "")
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"detail": "请求须为 JSON：name、password、code"}, 400)
        checked = await run_in_threadpool(self._check_password, name, password)
        if isinstance(checked, str):
            return JSONResponse({"detail": checked}, 401)
        if checked.must_change:
            return await self._refuse_json(name, "token", "一次性密码须先在浏览器登录门户后修改", 403)
        if await run_in_threadpool(self._needs_totp, name, checked.totp_enrolled):
            if not checked.totp_enrolled:
                return await self._refuse_json(name, "token", "须先在浏览器登录门户并登记动态口令", 403)
            if not await run_in_threadpool(self._check_totp, name, code):
                return JSONResponse({"detail": "动态口令不正确或已使用"}, 401)
        token = await run_in_threadpool(self._start, name, sign_in_sessions.COMMAND_LINE)
        return JSONResponse({"name": name, "token": token})

    # -- the steps -------------------------------------------------------------------------------

    def _after_password(self, checked: credentials.PasswordCheck, next_path: str) -> Response:
        if checked.must_change:
            return self._to_step(checked.name, "change", "/gateway/password", next_path)
        if self._needs_totp(checked.name, checked.totp_enrolled):
            return self._to_step(checked.name, "totp", "/gateway/totp", next_path)
        return self._session_response(self._start(checked.name, sign_in_sessions.BROWSER), next_path)

    async def _signed_in(self, name: str, next_path: str) -> Response:
        token = await run_in_threadpool(self._start, name, sign_in_sessions.BROWSER)
        return self._session_response(token, next_path)

    def _to_step(self, name: str, step: str, path: str, next_path: str) -> Response:
        response = RedirectResponse(f"{path}?next={_safe_next(next_path)}", status_code=303)
        value = self.steps.dumps({"name": name, "step": step})
        self._cookie(response, STEP_COOKIE, value, max_age=STEP_SECONDS, path="/gateway")
        return response

    async def _posted_at(self, request: Request, step: str) -> tuple[dict[str, str], str] | Response:
        """The form posted at ``step`` and the person carried to it; else the refusal or a fresh start."""
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        name = self._step(request, step)
        return _restart(request) if name is None else (form, name)

    def _step(self, request: Request, step: str) -> str | None:
        try:
            carried = self.steps.loads(request.cookies.get(STEP_COOKIE, ""), max_age=STEP_SECONDS)
        except BadSignature:
            return None
        return carried["name"] if carried.get("step") == step else None

    def _session_response(self, token: str, next_path: str) -> Response:
        response = RedirectResponse(_safe_next(next_path), status_code=303)
        self._cookie(response, SESSION_COOKIE, token, path="/")
        response.delete_cookie(STEP_COOKIE, path="/gateway")
        return response

    def _cookie(self, response: Response, key: str, value: str, **options: Any) -> None:
        response.set_cookie(key, value, httponly=True, samesite="strict", secure=self.config.secure_cookies, **options)

    # -- the database's side (run in a worker thread) --------------------------------------------

    def _check_password(self, name: str, password: str) -> credentials.PasswordCheck | str:
        """The person's state once the password is theirs; else the refusal to show (audited): wrong
        name or password — counted toward the person's lock (storage.pin_lockout) — or locked."""
        with self.config.db.transaction() as session:
            known = find_person(session, name=name) is not None
            try:
                if known:
                    pin_lockout.check_unlocked(session, name=name)
            except RefusedDecision as locked:
                refusal = locked.message
            else:
                checked = credentials.check_password(session, name=name, password=password)
                if checked is not None and known:
                    return checked
                refusal = WRONG
        with self.config.db.transaction() as session:
            detail = {"step": "password", "reason": refusal}
            audit_log.append(session, actor=name or "（未填姓名）", action="sign_in_refused", detail=detail)
            if known and refusal == WRONG and (until := pin_lockout.record_wrong_pin(session, name=name)):
                locked = {"until": until.isoformat(), "wrong": pin_lockout.MAX_WRONG_PINS, "via": "门户"}
                audit_log.append(session, actor=name, action="pin_locked", detail=locked)
        return refusal

    def _choose_password(self, name: str, new: str, again: str) -> str | None:
        if new != again:
            return "两次输入的新密码不一致"
        try:
            with self.config.db.transaction() as session:
                credentials.choose_password(session, name=name, password=new)
                audit_log.append(session, actor=name, action="password_changed", detail={"via": "门户"})
        except InputError as error:
            return error.message
        return None

    def _enrolled(self, name: str):
        def enrolled() -> bool:
            with self.config.db.transaction() as session:
                row = session.get(credentials.SignInCredential, name)
                return bool(row and row.totp_secret and row.totp_confirmed)

        return run_in_threadpool(enrolled)

    def _needs_totp(self, name: str, enrolled: bool) -> bool:
        if enrolled:
            return True
        with self.config.db.transaction() as session:
            person = find_person(session, name=name)
        return person is not None and bool({role.value for role in person.roles} & self.config.totp_roles)

    def _enrolment(self, name: str) -> str | None:
        """The provisioning URI while the person has no confirmed factor; None once they have."""
        with self.config.db.transaction() as session:
            row = session.get(credentials.SignInCredential, name)
            if row and row.totp_secret and row.totp_confirmed:
                return None
            return credentials.totp_enrolment(session, name=name)

    def _check_totp(self, name: str, code: str) -> bool:
        with self.config.db.transaction() as session:
            accepted = credentials.check_totp(session, name=name, code=code)
        if not accepted:
            self._audit_refusal(name, "totp", "动态口令不正确或已使用")
        return accepted

    def _start(self, name: str, kind: str) -> str:
        with self.config.db.transaction() as session:
            token = sign_in_sessions.start(session, name=name, kind=kind)
            audit_log.append(session, actor=name, action="signed_in", detail={"via": kind})
        return token

    def _end(self, token: str) -> None:
        with self.config.db.transaction() as session:
            name = sign_in_sessions.resolve(session, token=token, limits=self.config.limits)
            sign_in_sessions.end(session, token=token)
            if name:
                audit_log.append(session, actor=name, action="signed_out", detail={})

    def _audit_refusal(self, name: str, step: str, reason: str) -> None:
        with self.config.db.transaction() as session:
            audit_log.append(
                session, actor=name or "（未填姓名）", action="sign_in_refused", detail={"step": step, "reason": reason}
            )

    async def _refuse_json(self, name: str, step: str, reason: str, status: int) -> Response:
        await run_in_threadpool(self._audit_refusal, name, step, reason)
        return JSONResponse({"detail": reason}, status)

    # -- forms and CSRF --------------------------------------------------------------------------

    def _html(self, request: Request, render, status: int = 200) -> Response:
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = HTMLResponse(render(csrf), status_code=status)
        self._cookie(response, CSRF_COOKIE, csrf, path="/gateway")
        response.headers["Cache-Control"] = "no-store"
        return response

    async def _form(self, request: Request) -> dict[str, str] | Response:
        """The posted form, once its CSRF token matches the cookie; else a 403 page."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")):
            return HTMLResponse(pages.refused("表单已过期或来源不明，请刷新页面后重试"), status_code=403)
        form["next"] = _safe_next(form.get("next", "/"))
        return form


def _next(request: Request) -> str:
    return _safe_next(request.query_params.get("next", "/"))


def _safe_next(path: str) -> str:
    """Only a path of this site to go on to after signing in (no open redirect)."""
    return path if path.startswith("/") and not path.startswith(("//", "/\\")) else "/"


def _restart(request: Request) -> Response:
    return RedirectResponse(f"/gateway/signin?next={_next(request)}", status_code=303)


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _secret_of(uri: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(uri).query)["secret"][0]
