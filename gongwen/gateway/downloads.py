"""下载: the 门户's ``/gateway/files/<token>``, where every link of a flow run's artifacts leads (the archived
PDF, audit-retrieve's files, a draft's PDF; models.download_links makes them).

Opening one needs a signed-in person (else the sign-in page, coming back here after), then
actions.downloads decides and audits: an altered link 403, an expired one 410, a person outside the
document's 知悉范围 403 — each a Chinese page, each audited (``download_refused``) — else the file, with
its Content-Type and a Content-Disposition naming it, audited (``archive_downloaded``,
``draft_pdf_downloaded``). An archive store or a PDF service that cannot be reached is a 503 page.
"""

from __future__ import annotations

import mimetypes
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from actions.downloads import Opened, open_link
from doc_templates import PrintError
from gongwen.gateway import pages
from gongwen.gateway.config import GatewayConfig
from gongwen.gateway.signin import SESSION_COOKIE
from models.download_links import LinkExpired
from models.errors import NotAllowed, NotFound, ServiceUnavailable

if TYPE_CHECKING:
    from gongwen.gateway.app import Door

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class Downloads:
    """The download route of one gateway."""

    def __init__(self, config: GatewayConfig, door: Door) -> None:
        self.config = config
        self.door = door

    async def open(self, request: Request) -> Response:
        visitor = await run_in_threadpool(self.door.visitor, request.cookies.get(SESSION_COOKIE))
        if visitor is None:
            return RedirectResponse(f"/gateway/signin?next={quote(request.url.path)}", status_code=303)
        if self.config.files is None:
            return _page("下载暂不可用", "本门户未配置归档存储，无法下载文件", 503)
        try:
            opened = await run_in_threadpool(self._open, visitor.name, request.path_params["token"])
        except LinkExpired as expired:
            return _page("下载链接已失效", expired.message, 410)
        except NotAllowed as refusal:
            return _page("无权下载", refusal.message, 403)
        except NotFound as missing:
            return _page("文件不存在", missing.message, 404)
        except (ServiceUnavailable, PrintError) as down:  # the archive store or 印制 (the PDF service) is down
            return _page("下载暂不可用", down.message, 503)
        media_type = _media_type(opened.filename)
        return Response(opened.content, media_type=media_type, headers=_disposition(opened, media_type))

    def _open(self, person: str, token: str) -> Opened:
        files = self.config.files
        converter = files.converter()
        try:
            return open_link(
                self.config.db, files.archive_store(), files.links, person=person, token=token, converter=converter
            )
        finally:
            if converter is not None:
                converter.close()


def _page(title: str, message: str, status: int) -> HTMLResponse:
    body = f'<p role="alert">{escape(message)}</p><p><a href="/">返回首页</a></p>'
    return HTMLResponse(pages.page(title, body), status, headers={"Cache-Control": "no-store"})


def _media_type(filename: str) -> str:
    if filename.endswith(".docx"):
        return _DOCX
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _disposition(opened: Opened, media_type: str) -> dict[str, str]:
    """A PDF opens in the browser, anything else is saved; the file's name in ASCII for old browsers and in
    UTF-8 (RFC 6266) for Chinese names."""
    how = "inline" if media_type == "application/pdf" else "attachment"
    fallback = opened.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {
        "Content-Disposition": f"{how}; filename=\"{fallback}\"; filename*=UTF-8''{quote(opened.filename)}",
        "Cache-Control": "no-store",
    }
