"""印制's PDF conversion service as a process: ``gongwen converter serve``, and the one ``gongwen server``
starts as its child.

``serve`` runs a ``ConverterPool`` of GONGWEN_CONVERTERS LibreOffice converters behind HTTP
(doc_templates.pdf_service) until SIGTERM or Ctrl-C — or, started by ``gongwen server``, until that
process has gone. ``ConverterProcess`` is how ``gongwen server`` runs it: a child process (a LibreOffice
that crashes takes the service down, never the server), on a free port of 127.0.0.1, its URL exported
as GONGWEN_CONVERTER_URL to the flow runs, stopped with the server. With GONGWEN_CONVERTER_URL set
already (the compose stack's converter service) the server starts none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from doc_templates.pdf_service import ConverterPool, serve_pool
from gongwen.output import Output
from gongwen.server import HOST, START_TIMEOUT, free_port
from gongwen.settings import Settings
from models.errors import ServiceUnavailable

#: How often a service started by ``gongwen server`` checks that the server still runs.
PARENT_POLL_SECONDS = 1.0


def serve(settings: Settings, out: Output, host: str, port: int, parent: int | None = None) -> None:
    """Run the PDF conversion service on ``host``:``port`` until stopped (see the module)."""
    pool = ConverterPool(
        settings.converters, recycle_after=settings.converter_recycle, timeout=settings.converter_timeout
    )
    if not pool.running:
        pool.close()
        raise ServiceUnavailable("LibreOffice 转换进程均未能启动，PDF 转换服务无法提供（见上方警告）")
    server = serve_pool(pool, host, port)
    stop = lambda *_: threading.Thread(target=server.shutdown).start()  # noqa: E731 - not from serve_forever's thread
    signal.signal(signal.SIGTERM, stop)
    if parent is not None:
        threading.Thread(target=_stop_without, args=(parent, stop), daemon=True).start()
    url = f"http://{host}:{server.server_address[1]}"
    out.done(
        {"url": url, "converters": pool.size},
        f"PDF 转换服务：{url}（{pool.size} 个 LibreOffice 转换进程）\n按 Ctrl-C 停止。",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        pool.close()


def _stop_without(parent: int, stop) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    stop()


def healthy(url: str) -> bool:
    """Whether the service at ``url`` answers ``GET /health`` with 200 (a converter runs)."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class ConverterProcess:
    """``gongwen converter serve`` as a child of ``gongwen server`` (see the module)."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.url = f"http://{HOST}:{free_port()}"
        self.log = home / "converter.log"
        gongwen = Path(sys.executable).with_name("gongwen")
        port = self.url.rsplit(":", 1)[1]
        command = [
            str(gongwen),
            "--home",
            str(home),
            "converter",
            "serve",
            "--port",
            port,
            "--parent",
            str(os.getpid()),
        ]
        with self.log.open("ab") as output:
            # a session of its own: a kill -9 of the server's process group leaves it time to close its
            # LibreOffices (each in a session of its own too) once it sees the server has gone
            self._process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_until_healthy(self) -> bool:
        """Whether it answers within START_TIMEOUT seconds (False: it has stopped, or is not up yet)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and self._process.poll() is None:
            if healthy(self.url):
                return True
            time.sleep(0.2)
        return False

    def problem(self) -> str:
        """Why it is not serving, for the server's output."""
        tail = self.log.read_text(errors="replace")[-1500:]
        return f"PDF 转换服务未能启动，流程运行将逐份启动 LibreOffice（较慢）；见 {self.log}：\n{tail}"

    def stop(self) -> None:
        """SIGTERM (it closes its converters), then SIGKILL after 30 s."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
