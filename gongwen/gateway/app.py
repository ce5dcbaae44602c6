"""The 门户 itself: every request needs a signed-in person; what they may reach is their roles'
(models.access_policy); a form answer or a start of a gongwen deployment is checked with gongwen and
stamped (gongwen.gateway.stamping) before it goes on to Prefect.

- A browser is known by its session cookie, the command line by ``Authorization: Bearer <token>``
  (``gongwen login``); anyone else gets the sign-in page (a page navigation) or 401 (the API).
- A refused request gets 403 with one Chinese sentence as ``detail`` (the Prefect UI shows it), and is
  audited (``access_refused``: the person, the method, the route, the reason).
- A state-changing request whose Origin is another site is refused (the cookies are SameSite=Strict too).
- ``/ui-settings`` is answered for this address: the UI calls the API through the gateway and shows no
  login of its own.
- One access-log line per request (logger ``gongwen.gateway.access``): person, method, path, status.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from gongwen.gateway import stamping
from gongwen.gateway.config import GatewayConfig
from gongwen.gateway.downloads import Downloads
from gongwen.gateway.proxy import Upstream
from gongwen.gateway.signin import SESSION_COOKIE, SignIn
from models import access_policy
from models.vocabulary import Role
from storage import audit_log, sign_in_sessions
from storage.directory_store import find_person

access_log = logging.getLogger("gongwen.gateway.access")
_ALL = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_SAFE = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Visitor:
    """The signed-in person behind a request."""

    name: str
    roles: frozenset[Role]


def create_gateway(config: GatewayConfig) -> Starlette:
    """The gateway's ASGI application."""
    upstream = Upstream(config.upstream, config.upstream_authorization, config.auth_string)
    door = Door(config, upstream)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        await upstream.close()

    routes = [
        Route("/gateway/health", lambda request: PlainTextResponse("ok"), methods=["GET"]),
        Route("/gateway/whoami", door.whoami, methods=["GET"]),
        *SignIn(config).routes(),
        Route("/gateway/files/{token}", Downloads(config, door).open, methods=["GET"]),
        WebSocketRoute("/{path:path}", door.websocket),
        Route("/{path:path}", door.http, methods=_ALL),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


class Door:
    """Who may pass, and where to."""

    def __init__(self, config: GatewayConfig, upstream: Upstream) -> None:
        self.config = config
        self.upstream = upstream

    async def http(self, request: Request) -> Response:
        visitor = await run_in_threadpool(self.visitor, _token(request))
        response = await self._http(request, visitor)
        access_log.info(
            "%s %s %s %s", visitor.name if visitor else "-", request.method, request.url.path, response.status_code
        )
        return response

    async def _http(self, request: Request, visitor: Visitor | None) -> Response:
        path = request.url.path
        if visitor is None:
            if request.method == "GET" and "text/html" in request.headers.get("accept", ""):  # a page navigation
                return RedirectResponse(f"/gateway/signin?next={path}", status_code=303)
            return JSONResponse({"detail": "请先登录门户"}, 401)
        if request.method not in _SAFE and not self._same_origin(request):
            return await self.refuse(visitor, request, "请求来源不是本系统，已拒绝")
        if not path.startswith("/api/"):
            if path.rstrip("/").endswith("/ui-settings"):
                return await self._ui_settings(request)
            return await self.upstream.forward(request)
        decision = access_policy.decide(visitor.roles, request.method, path.removeprefix("/api"))
        if not decision.allowed:
            return await self.refuse(visitor, request, decision.reason)
        if decision.kind is access_policy.Kind.EMPTY:  # a list the UI asks for, not shown to this person
            return JSONResponse([])
        if decision.kind in (access_policy.Kind.ANSWER, access_policy.Kind.START):
            return await stamping.stamped(self, request, visitor, decision.kind)
        return await self.upstream.forward(request)

    async def whoami(self, request: Request) -> Response:
        """Who this session's person is: their name and roles (the command line asks, after ``login``)."""
        visitor = await run_in_threadpool(self.visitor, _token(request))
        if visitor is None:
            return JSONResponse({"detail": "请先登录门户"}, 401)
        return JSONResponse({"name": visitor.name, "roles": sorted(visitor.roles)})

    async def websocket(self, socket: WebSocket) -> None:
        visitor = await run_in_threadpool(self.visitor, socket.cookies.get(SESSION_COOKIE))
        allowed = (
            visitor is not None
            and access_policy.decide(visitor.roles, "GET", socket.url.path.removeprefix("/api")).allowed
        )
        if not allowed:
            await socket.close(1008)
            return
        await self.upstream.websocket(socket)

    def visitor(self, token: str | None) -> Visitor | None:
        """The person whose live session ``token`` is (and is still in the directory)."""
        if not token:
            return None
        with self.config.db.transaction() as session:
            name = sign_in_sessions.resolve(session, token=token, limits=self.config.limits)
            person = find_person(session, name=name) if name else None
        return Visitor(person.name, frozenset(person.roles)) if person else None

    async def refuse(self, visitor: Visitor, request: Request, reason: str, status: int = 403) -> Response:
        """403 with ``reason`` as the detail, audited as ``access_refused``."""
        detail = {"method": request.method, "path": request.url.path, "reason": reason}
        await run_in_threadpool(self._audit, visitor.name, "access_refused", detail)
        return JSONResponse({"detail": reason}, status)

    def _audit(self, actor: str, action: str, detail: dict) -> None:
        with self.config.db.transaction() as session:
            audit_log.append(session, actor=actor, action=action, detail=detail)

    def origin(self, request: Request) -> str:
        """This gateway's origin as staff reach it: GONGWEN_PUBLIC_URL's, else the request's own."""
        if self.config.public_url:
            parts = urlsplit(self.config.public_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"{request.url.scheme}://{request.url.netloc}"

    def _same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        return origin is None or origin == self.origin(request)

    async def _ui_settings(self, request: Request) -> Response:
        answer = await self.upstream.call("GET", request.url.path)
        if answer.status_code != 200:
            return JSONResponse(answer.json() if answer.content else {}, answer.status_code)
        settings = answer.json() | {"api_url": f"{self.origin(request)}/api", "auth": None, "csrf_enabled": False}
        return JSONResponse(settings, headers={"Cache-Control": "no-store"})


def _token(request: Request) -> str | None:
    """The session token: the command line's bearer token, else the browser's cookie."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.cookies.get(SESSION_COOKIE)
