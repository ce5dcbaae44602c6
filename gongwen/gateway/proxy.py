"""Passing a request on to the Prefect server: HTTP through one pooled httpx client (the body streamed
back as it comes), websockets through the websockets library.

The person's own credentials (the session cookie, a command-line token) never reach Prefect: the
request goes on with the Prefect auth string instead. A websocket of Prefect's ``prefect`` subprotocol
begins with an auth message; the person's is replaced by one with the auth string.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import httpx
import websockets
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

#: headers that belong to one connection, or to the person, not to the request passed on
_DROPPED = {
    "host", "connection", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding",
    "upgrade", "cookie", "authorization", "content-length",
}  # fmt: skip
_DROPPED_BACK = {"connection", "keep-alive", "transfer-encoding", "content-length", "set-cookie"}


class Upstream:
    """The Prefect server behind the gateway."""

    def __init__(self, base_url: str, authorization: str, auth_string: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.authorization = authorization
        self.auth_string = auth_string
        self.client = httpx.AsyncClient(base_url=self.base_url, timeout=httpx.Timeout(60, connect=5))

    async def close(self) -> None:
        await self.client.aclose()

    def headers(self, incoming: Mapping[str, str]) -> dict[str, str]:
        headers = {key: value for key, value in incoming.items() if key.lower() not in _DROPPED}
        headers["authorization"] = self.authorization
        return headers

    async def call(self, method: str, path: str, *, json_body: object = None) -> httpx.Response:
        """A request of the gateway's own (reading a run before a form answer is passed on)."""
        return await self.client.request(method, path, json=json_body, headers={"authorization": self.authorization})

    async def forward(self, request: Request, body: bytes | None = None) -> Response:
        """``request`` passed on (with ``body`` instead of its own, if given); Prefect's answer streamed back."""
        content = body if body is not None else await request.body()
        outgoing = self.client.build_request(
            request.method,
            request.url.path,
            params=request.url.query,
            headers=self.headers(request.headers),
            content=content,
        )
        try:
            response = await self.client.send(outgoing, stream=True)
        except httpx.TransportError:
            return JSONResponse({"detail": "Prefect 服务器暂时无法连接，请稍后重试"}, 502)
        headers = {key: value for key, value in response.headers.items() if key.lower() not in _DROPPED_BACK}
        return StreamingResponse(
            response.aiter_raw(),
            status_code=response.status_code,
            headers=headers,
            background=BackgroundTask(response.aclose),
        )

    async def websocket(self, socket: WebSocket) -> None:
        """Relay a websocket both ways until either side closes."""
        protocols = [
            p.strip() for header in socket.headers.getlist("sec-websocket-protocol") for p in header.split(",")
        ]
        prefect = "prefect" in protocols
        await socket.accept(subprotocol="prefect" if prefect else None)
        url = (
            self.base_url.replace("http", "ws", 1)
            + socket.url.path
            + (f"?{socket.url.query}" if socket.url.query else "")
        )
        try:
            async with websockets.connect(
                url,
                subprotocols=["prefect"] if prefect else None,
                additional_headers={"Authorization": self.authorization},
            ) as upstream:
                if prefect:
                    first = await socket.receive_json()
                    if first.get("type") != "auth":
                        await socket.close(1008, "Expected 'auth' message")
                        return
                    await upstream.send(json.dumps({"type": "auth", "token": self.auth_string}))
                await _relay(socket, upstream)
        except (OSError, websockets.WebSocketException):
            await socket.close(1011)


async def _relay(socket: WebSocket, upstream) -> None:
    async def inward() -> None:
        async for message in upstream:
            await (socket.send_text(message) if isinstance(message, str) else socket.send_bytes(message))

    async def outward() -> None:
        try:
            while True:
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                await upstream.send(message.get("text") if message.get("text") is not None else message["bytes"])
        except WebSocketDisconnect:
            return

    tasks = [asyncio.create_task(inward()), asyncio.create_task(outward())]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await upstream.close()
    try:
        await socket.close()
    except RuntimeError:
        pass  # already closed by the person's side
