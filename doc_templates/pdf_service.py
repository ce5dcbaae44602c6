"""印制's PDF conversion as a service: a pool of persistent LibreOffice converters behind HTTP, and its client.

Starting LibreOffice costs a second or two, converting a 公文 once it runs about 0.15 s. So one process
— ``gongwen converter serve``, which ``gongwen server`` starts as its child and the compose stack runs as
a service of its own — keeps a ``ConverterPool`` of ``PersistentConverter``s, and every process that
prints (flow runs, the CLI) sends it the .docx and gets the PDF back:

- ``ConverterPool``: ``size`` converters, each with its own LibreOffice profile. A conversion checks one
  out for itself alone, so two conversions never share a profile (more requests than converters wait
  for one to be free). A converter is replaced after ``recycle_after`` documents (LibreOffice grows
  over time), and at once when a conversion takes longer than ``timeout`` seconds: the hung soffice is
  killed, that request gets PdfFailed, and the next one is served by its replacement.
- ``serve_pool``: HTTP on one address. ``POST /convert`` (``?pdfa=1`` for PDF/A-2b) with the .docx
  bytes answers the PDF bytes — bytes, not paths, so it works across containers; a failure answers a
  JSON body ``{"error": 中文说明, "kind": "failed" | "unavailable"}``. ``GET /health`` answers 200 while
  at least one converter runs (503 otherwise), with the pool's counts as JSON.
- ``ConverterClient``: the ``PdfConverter`` a process uses when ``GONGWEN_CONVERTER_URL`` is set;
  kept-alive connections (one per thread printing at once). Where the service cannot be reached it
  converts with a one-shot LibreOffice instead and says so once per process.
"""

from __future__ import annotations

import http.client
import json
import logging
import queue
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from doc_templates import scratch
from doc_templates.catalogue import template_path
from doc_templates.errors import PdfFailed, PdfUnavailable
from doc_templates.pdf import Closing, OneShotConverter, PersistentConverter, uno_python
from models.layout import Kind

log = logging.getLogger(__name__)

#: The largest .docx the service takes (a 公文 with its 附件 is well under a megabyte).
MAX_DOCX_BYTES = 64 * 1024 * 1024
#: Seconds to wait for the service's TCP connection; an unreachable service falls back sooner.
CONNECT_SECONDS = 3.0


@dataclass
class _Slot:
    """One place in the pool: its converter (None while it is being replaced) and its documents so far."""

    converter: PersistentConverter | None = None
    documents: int = 0


class ConverterPool(Closing):
    """``size`` persistent converters, each used by one conversion at a time (see the module)."""

    def __init__(self, size: int, *, recycle_after: int, timeout: float, bridge: Path | None = None) -> None:
        self.size, self.recycle_after, self.timeout = size, recycle_after, timeout
        self._python = uno_python()
        self._bridge = bridge
        self._free: queue.Queue[_Slot] = queue.Queue()
        self._slots = [_Slot() for _ in range(size)]
        self._counts = threading.Lock()
        self.converted = self.failed = self.restarted = 0
        self._closed = False
        starting = [threading.Thread(target=self._release, args=(slot, True)) for slot in self._slots]
        for thread in starting:  # the converters start side by side
            thread.start()
        for thread in starting:
            thread.join()

    def _start(self) -> PersistentConverter:
        """A new converter, warmed up: its first document (fonts, filters loaded) is the 文件格式 template,
        so that no 公文 waits for LibreOffice to load them."""
        options = {"bridge": self._bridge} if self._bridge else {}
        converter = PersistentConverter(self._python, timeout=self.timeout, **options)
        with scratch.temporary_folder("pdf") as folder:
            try:
                converter.convert(template_path(Kind.FILE), folder / "warm-up.pdf", pdfa=True)
            except PdfFailed:
                converter.close()
                raise
        return converter

    @property
    def running(self) -> int:
        """How many converters run now."""
        return sum(1 for slot in self._slots if slot.converter is not None and slot.converter.alive)

    def convert(self, docx: Path, pdf: Path, *, pdfa: bool = False) -> None:
        """Convert on a converter of this conversion's own; PdfFailed on failure or after ``timeout``."""
        slot = self._free.get()
        try:
            if slot.converter is None:  # its replacement failed to start: try once more, now
                slot.converter = self._start()
            slot.documents += 1
            slot.converter.convert(docx, pdf, pdfa=pdfa)
        except (PdfFailed, PdfUnavailable):
            with self._counts:
                self.failed += 1
            raise
        else:
            with self._counts:
                self.converted += 1
        finally:
            renew = slot.converter is None or not slot.converter.alive or slot.documents >= self.recycle_after
            if renew and not self._closed:
                threading.Thread(target=self._release, args=(slot, True), name="印制转换器更换").start()
            else:
                self._free.put(slot)

    def _release(self, slot: _Slot, renew: bool) -> None:
        """Put ``slot`` back in the pool, with a fresh converter when ``renew`` (the old one closed)."""
        if renew:
            if slot.converter is not None:
                slot.converter.close()
                with self._counts:
                    self.restarted += 1
            slot.converter, slot.documents = None, 0
            try:
                slot.converter = self._start()
            except (PdfFailed, PdfUnavailable) as error:
                log.warning("LibreOffice 转换进程未能启动：%s", error.message)
        self._free.put(slot)

    def counts(self) -> dict[str, int]:
        """The pool as ``GET /health`` shows it."""
        with self._counts:
            done = {"converted": self.converted, "failed": self.failed, "restarted": self.restarted}
        return {"size": self.size, "running": self.running, **done}

    def close(self) -> None:
        """Stop every converter (a conversion under way finishes first)."""
        self._closed = True
        for _ in self._slots:
            slot = self._free.get()
            if slot.converter is not None:
                slot.converter.close()
                slot.converter = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a client sends its documents on one connection
    server: _PoolServer

    def do_GET(self) -> None:
        if urlsplit(self.path).path != "/health":
            self._json(HTTPStatus.NOT_FOUND, {"error": f"没有此地址：{self.path}", "kind": "failed"})
            return
        counts = self.server.pool.counts()
        self._json(HTTPStatus.OK if counts["running"] else HTTPStatus.SERVICE_UNAVAILABLE, counts)

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if url.path != "/convert":
            self._refuse(HTTPStatus.NOT_FOUND, f"没有此地址：{self.path}", length)
        elif not 0 < length <= MAX_DOCX_BYTES:
            self._refuse(HTTPStatus.BAD_REQUEST, f"请求正文应为 .docx 文件（1 字节至 {MAX_DOCX_BYTES} 字节）", length)
        else:
            docx = self.rfile.read(length)
            if not docx.startswith(b"PK\x03\x04"):  # a .docx is a zip file
                self._json(HTTPStatus.BAD_REQUEST, {"error": "请求正文不是 .docx 文件", "kind": "failed"})
                return
            self._convert(docx, parse_qs(url.query).get("pdfa", ["0"])[0] == "1")

    def _convert(self, docx: bytes, pdfa: bool) -> None:
        with scratch.temporary_folder("pdf") as folder:
            (folder / "document.docx").write_bytes(docx)
            try:
                self.server.pool.convert(folder / "document.docx", folder / "document.pdf", pdfa=pdfa)
            except PdfUnavailable as error:
                self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": error.message, "kind": "unavailable"})
                return
            except PdfFailed as error:
                self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": error.message, "kind": "failed"})
                return
            self._send(HTTPStatus.OK, "application/pdf", (folder / "document.pdf").read_bytes())

    def _refuse(self, status: HTTPStatus, message: str, unread: int) -> None:
        if unread > MAX_DOCX_BYTES:
            self.close_connection = True  # the body is not read: the connection cannot carry another request
        else:
            self.rfile.read(unread)
        self._json(status, {"error": message, "kind": "failed"})

    def _json(self, status: HTTPStatus, body: dict) -> None:
        self._send(status, "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode())

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the signature of http.server
        log.debug(format, *args)


class _PoolServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], pool: ConverterPool) -> None:
        super().__init__(address, _Handler)
        self.pool = pool


def serve_pool(pool: ConverterPool, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server for ``pool`` bound to ``host``:``port`` (0: a free port); call its ``serve_forever``."""
    return _PoolServer((host, port), pool)


def service_address(url: str) -> tuple[str, int]:
    """The host and port of the service's URL (``http://主机:端口``); ValueError saying so otherwise."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ValueError(f"应为 http://主机:端口（如 http://127.0.0.1:4300），而不是「{url}」")
    return parts.hostname, port


class _Unreachable(Exception):
    """The service did not answer (no connection, a dropped one, a timeout)."""


class ConverterClient(Closing):
    """A ``PdfConverter`` that converts through the service at ``url`` (see the module)."""

    _warned = False  # one warning per process, however many clients it makes

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self._host, self._port = service_address(url)
        self._read_seconds = timeout + 30  # the service's own timeout answers first
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._one_shots: list[OneShotConverter] = []  # idle fallbacks, each with its own profile

    def convert(self, docx: Path, pdf: Path, *, pdfa: bool = False) -> None:
        try:
            data = self._post(Path(docx).read_bytes(), pdfa)
        except _Unreachable as error:
            self._convert_one_shot(docx, pdf, pdfa, error)
            return
        pdf.parent.mkdir(parents=True, exist_ok=True)
        pdf.write_bytes(data)

    def _post(self, docx: bytes, pdfa: bool) -> bytes:
        """The PDF; PdfFailed / PdfUnavailable with the service's message; _Unreachable when it does not answer."""
        path = "/convert?pdfa=1" if pdfa else "/convert"
        for attempt in range(2):  # a kept-alive connection the service has closed meanwhile: once more, afresh
            connection, reused = self._connection()
            try:
                connection.request("POST", path, body=docx, headers={"Content-Type": "application/octet-stream"})
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                if reused and attempt == 0:
                    continue
                raise _Unreachable(f"{type(error).__name__}: {error}") from None
            with self._lock:
                self._idle.append(connection)
            if response.status == HTTPStatus.OK:
                return body
            raise _service_error(response.status, body)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        connection = http.client.HTTPConnection(self._host, self._port, timeout=CONNECT_SECONDS)
        try:
            connection.connect()
        except OSError as error:
            raise _Unreachable(f"{type(error).__name__}: {error}") from None
        connection.sock.settimeout(self._read_seconds)
        return connection, False

    def _convert_one_shot(self, docx: Path, pdf: Path, pdfa: bool, error: _Unreachable) -> None:
        """Without the service: a one-shot LibreOffice, on a profile no other conversion uses meanwhile."""
        if not ConverterClient._warned:
            ConverterClient._warned = True
            log.warning("PDF 转换服务 %s 不可用（%s），改用逐份启动 LibreOffice（较慢）", self.url, error)
        with self._lock:
            one_shot = self._one_shots.pop() if self._one_shots else None
        one_shot = one_shot or OneShotConverter()
        try:
            one_shot.convert(docx, pdf, pdfa=pdfa)
        finally:
            with self._lock:
                self._one_shots.append(one_shot)

    def close(self) -> None:
        with self._lock:
            for connection in self._idle:
                connection.close()
            for one_shot in self._one_shots:
                one_shot.close()
            self._idle.clear()
            self._one_shots.clear()


def _service_error(status: int, body: bytes) -> PdfFailed | PdfUnavailable:
    """The service's JSON error as the exception a converter raises."""
    try:
        answer = json.loads(body)
        message, kind = answer["error"], answer.get("kind")
    except (ValueError, KeyError, TypeError):
        message, kind = f"PDF 转换服务返回 HTTP {status}：{body[:200].decode(errors='replace')}", "failed"
    return (PdfUnavailable if kind == "unavailable" else PdfFailed)(message, "pdf")
