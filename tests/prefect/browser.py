"""Headless Chromium (Debian's ``chromium``, driven by Playwright) for looking at the Prefect UI through
the 门户, and a small PNG reader.

``browser_page`` opens a page, ``sign_in`` signs a person in at the gateway as they would (the forms
filled and submitted), ``capture`` loads one page the way a person's browser would (the UI's scripts
run, read ``/ui-settings`` and call the API through the gateway), saves a screenshot and returns the
rendered DOM. ``read_png`` decodes the screenshot
with zlib alone (8-bit RGB/RGBA, not interlaced: what Chromium writes), so the
tests need neither Pillow nor numpy.
"""

from __future__ import annotations

import shutil
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

WIDTH, HEIGHT = 1400, 1000


def chromium() -> str | None:
    """The chromium executable (``/usr/bin/chromium`` on Debian), or None."""
    debian = Path("/usr/bin/chromium")
    return str(debian) if debian.exists() else shutil.which("chromium")


def chromium_missing() -> str | None:
    """Why the UI cannot be looked at here (a skip reason), or None."""
    return None if chromium() else "chromium is not installed (apt-get install chromium)"


@contextmanager
def browser_page() -> Iterator[Page]:
    """A page of headless Chromium (Debian's, driven by Playwright), WIDTH×HEIGHT, in Chinese."""
    with browser_pages() as new_page:
        yield new_page()


@contextmanager
def browser_pages() -> Iterator[Callable[[], Page]]:
    """One headless Chromium; each call of what it yields opens a page with cookies of its own (one person each)."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    if executable is None:
        raise FileNotFoundError("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield lambda: browser.new_page(viewport={"width": WIDTH, "height": HEIGHT}, locale="zh-CN")
        finally:
            browser.close()


def sign_in(page: Page, gateway: str, name: str, password: str, *, new_password: str | None = None) -> None:
    """Sign in at the 门户 as a person does: name and password; a new password where the one given was a
    one-time one (``new_password``)."""
    page.goto(f"{gateway}/gateway/signin")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("button[type=submit]")
    if "/gateway/password" in page.url:
        page.fill("#new", new_password)
        page.fill("#again", new_password)
        page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def capture(page: Page, url: str, screenshot: Path, *, shown: str, timeout_ms: int = 60_000) -> str:
    """Open ``url``, wait until ``shown`` is on the page (the UI has called the API), save a screenshot;
    the rendered DOM."""
    page.goto(url)
    try:
        page.get_by_text(shown).first.wait_for(timeout=timeout_ms)
        page.wait_for_load_state("networkidle")  # the rest of the page (logs, graph) has come in too
    finally:
        page.screenshot(path=str(screenshot))
    return page.content()


@dataclass(frozen=True)
class Png:
    width: int
    height: int
    rows: list[bytes]  # unfiltered scanlines
    channels: int

    def colours(self) -> Counter[bytes]:
        """How many pixels have each colour (RGB, alpha dropped)."""
        counts: Counter[bytes] = Counter()
        step = self.channels
        for row in self.rows:
            counts.update(row[i : i + 3] for i in range(0, len(row), step))
        return counts


def read_png(path: Path) -> Png:
    """Decode an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    position, header, compressed = 8, None, bytearray()
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[position + 8 + length : position + 12 + length])[0]:
            raise ValueError(f"{path}: bad CRC in {kind!r}")
        position += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            compressed += body
        elif kind == b"IEND":
            break
    if header is None:
        raise ValueError(f"{path}: no IHDR")
    width, height, depth, colour_type, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour_type)
    if depth != 8 or channels is None or interlace:
        raise ValueError(f"{path}: unsupported PNG (depth {depth}, colour type {colour_type}, interlace {interlace})")
    raw = zlib.decompress(bytes(compressed))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        raise ValueError(f"{path}: {len(raw)} bytes of image data for {width}×{height}")
    rows, previous = [], bytes(stride)
    for y in range(height):
        start = y * (stride + 1)
        previous = _unfilter(raw[start], raw[start + 1 : start + 1 + stride], previous, channels)
        rows.append(previous)
    return Png(width, height, rows, channels)


def _unfilter(kind: int, line: bytes, up: bytes, bpp: int) -> bytes:
    if kind == 0:
        return line
    if kind == 2:
        return bytes((a + b) & 0xFF for a, b in zip(line, up, strict=True))
    out = bytearray(line)
    n = len(out)
    if kind == 1:
        for i in range(bpp, n):
            out[i] = (out[i] + out[i - bpp]) & 0xFF
    elif kind == 3:
        for i in range(n):
            left = out[i - bpp] if i >= bpp else 0
            out[i] = (out[i] + ((left + up[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(n):
            if i >= bpp:
                a, c = out[i - bpp], up[i - bpp]
            else:
                a = c = 0
            b = up[i]
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
            out[i] = (out[i] + predictor) & 0xFF
    else:
        raise ValueError(f"unknown PNG filter {kind}")
    return bytes(out)
