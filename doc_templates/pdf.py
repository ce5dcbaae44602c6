"""PDF through LibreOffice headless, with the project's font mapping.

Two converters with one method, ``convert(docx, pdf, *, pdfa=False)``:

- ``PersistentConverter`` keeps one soffice running, listening on a named pipe,
  and drives it through ``uno_bridge.py`` run by LibreOffice's Python (Debian's
  python3-uno): ~0.15 s a document once started. A document that takes longer
  than its ``timeout`` kills soffice and the bridge (PdfFailed; ``alive`` is then false).
- ``OneShotConverter`` runs ``soffice --headless --convert-to pdf`` per document
  (~1.2–2.4 s each): nothing to start or stop.

``open_converter()`` gives the persistent one where LibreOffice's Python is
there and starts, else the one-shot one: a command printing a batch opens one
for the batch. A server keeps a pool of persistent ones for every process to
print through (``pdf_service``: ``ConverterPool``, ``ConverterClient``). Each
converter has its own ``-env:UserInstallation`` profile, so converters in
parallel do not collide;
soffice runs with ``FONTCONFIG_FILE`` pointing at ``fonts/fonts.conf``, which maps
仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312 and 宋体 to free fonts. ``pdfa``
asks for PDF/A-2b (the archive copy). Without LibreOffice, ``PdfUnavailable``
says in Chinese what to install.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Protocol

from doc_templates import scratch
from doc_templates.errors import PdfFailed, PdfUnavailable

FONTS_CONF = Path(__file__).resolve().parent / "fonts" / "fonts.conf"
BRIDGE = Path(__file__).resolve().parent / "uno_bridge.py"
INSTALL_HINT = "apt-get install libreoffice-writer-nogui fonts-noto-cjk"
#: Pythons that may have LibreOffice's ``uno`` module: LibreOffice's own, then Debian's python3-uno.
UNO_PYTHONS = ("/usr/lib/libreoffice/program/python", "/opt/libreoffice/program/python", "/usr/bin/python3")
_PDF_VERSION_2 = json.dumps({"SelectPdfVersion": {"type": "long", "value": "2"}})
_CONVERT_SECONDS = 120


class PdfConverter(Protocol):
    """Turns a .docx into a PDF file."""

    def convert(self, docx: Path, pdf: Path, *, pdfa: bool = False) -> None: ...

    def close(self) -> None: ...


def soffice() -> str:
    """The soffice executable, or PdfUnavailable saying what to install."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise PdfUnavailable(f"未安装 LibreOffice，无法生成 PDF（.docx 已生成）。请安装：{INSTALL_HINT}", "pdf")
    return found


def soffice_environment() -> dict[str, str]:
    """The environment for soffice: ours, with the GB/T 9704 font mapping."""
    return {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}


def page_count(pdf: Path) -> int:
    """Pages of a PDF written by LibreOffice (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


class _Profile:
    """A LibreOffice user profile of one converter, removed on close."""

    def __init__(self) -> None:
        self.folder = scratch.new_folder("lo")

    @property
    def argument(self) -> str:
        return f"-env:UserInstallation={(self.folder / 'profile').as_uri()}"

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class Closing:
    """``with converter:`` closes it at the end."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OneShotConverter(Closing):
    """``soffice --headless --convert-to pdf``, one process per document."""

    def __init__(self) -> None:
        self._soffice = soffice()
        self._profile = _Profile()

    def convert(self, docx: Path, pdf: Path, *, pdfa: bool = False) -> None:
        docx, target = Path(docx), "pdf:writer_pdf_Export:" + _PDF_VERSION_2 if pdfa else "pdf"
        with scratch.temporary_folder("pdf") as out:
            command = [self._soffice, self._profile.argument, "--headless", "--norestore", "--convert-to", target]
            try:
                result = subprocess.run(
                    [*command, "--outdir", str(out), str(docx)],
                    env=soffice_environment(),
                    capture_output=True,
                    text=True,
                    timeout=_CONVERT_SECONDS,
                )
            except subprocess.TimeoutExpired:
                raise PdfFailed(f"LibreOffice {_CONVERT_SECONDS} 秒内未完成转换", "pdf") from None
            produced = out / f"{docx.stem}.pdf"
            if result.returncode != 0 or not produced.is_file():
                raise PdfFailed(f"LibreOffice 未能生成 PDF：{(result.stderr or result.stdout).strip()[-500:]}", "pdf")
            pdf.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(produced, pdf)

    def close(self) -> None:
        self._profile.remove()


def uno_python() -> str | None:
    """A Python that can ``import uno`` (LibreOffice's or Debian's python3-uno), if any."""
    for candidate in UNO_PYTHONS:
        if os.access(candidate, os.X_OK):
            check = subprocess.run([candidate, "-c", "import uno"], capture_output=True, timeout=30)
            if check.returncode == 0:
                return candidate
    return None


class PersistentConverter(Closing):
    """One soffice kept running, driven through ``uno_bridge.py`` over a pipe."""

    def __init__(self, python: str | None = None, *, timeout: float = _CONVERT_SECONDS, bridge: Path = BRIDGE) -> None:
        executable = soffice()
        python = python or uno_python()
        if python is None:
            raise PdfUnavailable("LibreOffice 的 Python 接口（uno）不可用。请安装：apt-get install python3-uno", "pdf")
        self._profile = _Profile()
        self._lock = threading.Lock()
        self.timeout = timeout
        pipe = f"gongwen-{uuid.uuid4().hex}"
        self._office = subprocess.Popen(
            [
                executable,
                self._profile.argument,
                "--headless",
                "--invisible",
                "--nologo",
                "--norestore",
                "--nodefault",
                f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
            ],
            env=soffice_environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._bridge = subprocess.Popen(
            [python, str(bridge), pipe],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        try:
            self._answer(max(timeout, _CONVERT_SECONDS), "启动")
        except PdfFailed:
            self.close()
            raise

    @property
    def alive(self) -> bool:
        """Whether soffice and its bridge still run (a converter killed after a hang does not)."""
        return self._bridge.poll() is None and self._office.poll() is None

    def _answer(self, seconds: float, what: str) -> dict:
        """The bridge's next answer; after ``seconds`` without one, soffice and the bridge are killed."""
        ready, _, _ = select.select([self._bridge.stdout], [], [], seconds)
        if not ready:
            self._kill()
            raise PdfFailed(f"LibreOffice {seconds:g} 秒内未完成{what}，已停止该 LibreOffice 进程", "pdf")
        line = self._bridge.stdout.readline()
        if not line:
            detail = self._bridge.stderr.read().strip()[-500:] if self._bridge.poll() is not None else ""
            raise PdfFailed(f"LibreOffice 连接中断：{detail}", "pdf")
        return json.loads(line)

    def convert(self, docx: Path, pdf: Path, *, pdfa: bool = False) -> None:
        """Convert ``docx``; PdfFailed when LibreOffice fails, or hangs longer than ``timeout`` seconds
        (then this converter is dead: ``alive`` is false)."""
        pdf.parent.mkdir(parents=True, exist_ok=True)
        request = {"docx": str(Path(docx).resolve()), "pdf": str(Path(pdf).resolve()), "pdfa": pdfa}
        with self._lock:
            if not self.alive:
                raise PdfFailed("LibreOffice 进程已退出，无法转换", "pdf")
            try:
                self._bridge.stdin.write(json.dumps(request) + "\n")
                self._bridge.stdin.flush()
            except OSError as error:
                raise PdfFailed(f"LibreOffice 连接中断：{error}", "pdf") from None
            answer = self._answer(self.timeout, "转换")
        if not answer.get("ok"):
            raise PdfFailed(f"LibreOffice 未能生成 PDF：{answer.get('error')}", "pdf")

    def _kill(self) -> None:
        """A hung converter: kill the bridge and soffice's whole session at once."""
        self._bridge.kill()
        self._bridge.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._office.pid, signal.SIGKILL)
        self._office.wait()

    def close(self) -> None:
        """Stop the bridge (it terminates LibreOffice), then make sure soffice has gone."""
        if self._bridge.poll() is None:
            try:
                self._bridge.stdin.close()
                self._bridge.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._bridge.kill()
        try:
            self._office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self._office.pid, signal.SIGKILL)
            self._office.wait()
        self._profile.remove()


def open_converter() -> PdfConverter:
    """The persistent converter where it starts, else the one-shot one."""
    try:
        return PersistentConverter()
    except (PdfFailed, PdfUnavailable):
        return OneShotConverter()  # raises PdfUnavailable itself when soffice is missing
