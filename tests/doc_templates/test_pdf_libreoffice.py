"""The PDF through LibreOffice: it opens, holds the text, uses the mapped CJK fonts.

Page images go to ``out/pages/`` (git-ignored) for a person to look at. Skipped,
with the reason, where LibreOffice is not installed (CI installs it, and fails them without it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from doc_templates import PersistentConverter, print_document
from doc_templates.errors import PdfUnavailable
from doc_templates.pdf import OneShotConverter, page_count
from models.directory import Directory
from models.spec import DocumentSpec
from tests.doc_templates.conftest import SEED_REF, SOFFICE_MISSING, needs_soffice
from tests.doc_templates.docx_parts import missing_in_order, seed_lines
from tests.servers.requirements import need

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "out" / "pages"
#: The seed notice: the notice (its last line kept with 署名 and 成文日期 on page 2), then the
#: plan (pages 3–7) with the 版记 at the foot of page 7.
SEED_PAGES = 7
MAPPED_FONTS = {"FandolFang-Regular", "FandolHei-Regular", "FandolKai-Regular", "FandolSong-Regular"}


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def pdffonts(pdf: Path) -> set[str]:
    lines = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return {line.split()[0].split("+", 1)[-1] for line in lines}


@pytest.fixture(scope="module")
def converter():
    need(SOFFICE_MISSING)
    with PersistentConverter() as running:
        yield running


@pytest.fixture(scope="module")
def seed_pdf(converter, notice: DocumentSpec, kaifeng: Directory, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("seed")
    printed = print_document(
        notice, kaifeng, ref=SEED_REF, out_docx=folder / "seed.docx", out_pdf=folder / "seed.pdf", converter=converter
    )
    assert printed.pages == SEED_PAGES
    PAGES.mkdir(parents=True, exist_ok=True)
    for old in PAGES.glob("seed-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(printed.pdf), str(PAGES / "seed")], check=True)
    return printed.pdf


@needs_soffice
def test_seed_pdf_opens_with_expected_page_count(seed_pdf: Path) -> None:
    info = subprocess.run(["pdfinfo", str(seed_pdf)], capture_output=True, text=True, check=True).stdout
    assert f"Pages:           {SEED_PAGES}" in info
    assert "210 x 297 mm" in info or "595.2 x 841.92 pts (A4)" in info or "A4" in info
    assert page_count(seed_pdf) == SEED_PAGES
    assert len(list(PAGES.glob("seed-*.png"))) == SEED_PAGES


@needs_soffice
def test_seed_pdf_text_holds_every_element_in_order(seed_pdf: Path) -> None:
    text = pdftotext(seed_pdf)
    numbers = re.findall(r"^\s*—\s*(\d+)\s*—\s*$", text, flags=re.MULTILINE)
    assert numbers == [str(n) for n in range(1, SEED_PAGES + 1)]  # page numbers — N — (§7.5)
    body = re.sub(r"^\s*—\s*\d+\s*—\s*$", "", text, flags=re.MULTILINE)
    assert missing_in_order(seed_lines(), body) == []


@needs_soffice
def test_lines_hold_28_characters(seed_pdf: Path) -> None:
    """§5.2.3 每行排28个字: full-width lines of the plan hold 28 (a hanging punctuation mark makes 29)."""
    lines = [line for line in pdftotext(seed_pdf).splitlines() if line and line.isascii() is False]
    full_width = [line for line in lines if all(ord(char) > 0x2000 for char in line)]
    lengths = Counter(len(line) for line in full_width)
    assert lengths.most_common(1)[0][0] == 28
    assert max(lengths) <= 29


@needs_soffice
def test_pdf_embeds_the_mapped_cjk_fonts_not_a_fallback(seed_pdf: Path) -> None:
    fonts = pdffonts(seed_pdf)
    assert fonts == MAPPED_FONTS  # 仿宋, 黑体 (一、), 楷体 (（一）), 小标宋 and 宋体 — nothing else


@needs_soffice
def test_pdfa_for_the_archive_copy(converter, seed_pdf: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive.pdf"
    converter.convert(seed_pdf.with_suffix(".docx"), archive, pdfa=True)
    data = archive.read_bytes()
    assert b"<pdfaid:part>2</pdfaid:part>" in data and b"<pdfaid:conformance>B</pdfaid:conformance>" in data
    assert page_count(archive) == SEED_PAGES


@needs_soffice
def test_one_shot_converter_and_parallel_converters_do_not_collide(seed_pdf: Path, tmp_path: Path) -> None:
    docx = seed_pdf.with_suffix(".docx")
    results: dict[str, int] = {}

    def one_shot() -> None:
        with OneShotConverter() as converter:
            converter.convert(docx, tmp_path / "one-shot.pdf", pdfa=True)
        results["one-shot"] = page_count(tmp_path / "one-shot.pdf")

    def persistent() -> None:
        with PersistentConverter() as converter:
            for i in range(2):
                converter.convert(docx, tmp_path / f"persistent-{i}.pdf")
        results["persistent"] = page_count(tmp_path / "persistent-1.pdf")

    threads = [threading.Thread(target=one_shot), threading.Thread(target=persistent)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert results == {"one-shot": SEED_PAGES, "persistent": SEED_PAGES}
    assert b"<pdfaid:part>2</pdfaid:part>" in (tmp_path / "one-shot.pdf").read_bytes()


def test_without_libreoffice_the_docx_is_written_and_the_error_says_what_to_install(
    notice: DocumentSpec, kaifeng: Directory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PdfUnavailable) as raised:
        print_document(notice, kaifeng, ref=SEED_REF, out_docx=tmp_path / "a.docx", out_pdf=tmp_path / "a.pdf")
    assert "apt-get install libreoffice-writer-nogui fonts-noto-cjk" in raised.value.message
    assert "LibreOffice" in raised.value.message and "未安装" in raised.value.message
    assert (tmp_path / "a.docx").stat().st_size > 10_000
    assert not (tmp_path / "a.pdf").exists()


class _Page:
    """A page rendered by pdftoppm as 8-bit grey (PGM) at 10 pixels per millimetre."""

    def __init__(self, pdf: Path, number: int, folder: Path) -> None:
        prefix = folder / f"page{number}"
        subprocess.run(
            ["pdftoppm", "-gray", "-r", "254", "-f", str(number), "-l", str(number), str(pdf), str(prefix)], check=True
        )
        (path,) = folder.glob(f"page{number}*.pgm")
        header, size, _depth, self.pixels = path.read_bytes().split(b"\n", 3)
        self.width, self.height = map(int, size.split())

    def ink(self, y: int, x0: int = 0, x1: int | None = None) -> int:
        row = self.pixels[y * self.width + x0 : y * self.width + (x1 or self.width)]
        return sum(1 for value in row if value < 128)

    def rows(self, y0: int, y1: int, *, at_least: int = 1, x0: int = 0) -> list[int]:
        return [y for y in range(y0, y1) if self.ink(y, x0) >= at_least]


@needs_soffice
def test_page_geometry_measured_on_the_printed_page(seed_pdf: Path, tmp_path: Path) -> None:
    """On page 1 (±1 mm): §7.2.4 标志 35 mm under the 版心's top; §7.2.7 the red rule 156 mm
    wide from the 订口, 4 mm under the 文号; §7.5 the page number's 一字线 7 mm under the 版心."""
    page = _Page(seed_pdf, 1, tmp_path)
    top, bottom = 370, 2970 - 350  # 版心 edges in pixels (0.1 mm)
    masthead_top = page.rows(0, 1500)[0]
    assert abs((masthead_top - top) / 10 - 35) <= 1
    rule = page.rows(masthead_top, 1500, at_least=1400)  # a full-width line
    assert rule, "no red rule"
    core = max(rule, key=page.ink)  # the middle of the line, not its anti-aliased edge
    start = next(x for x in range(page.width) if page.pixels[core * page.width + x] < 128)
    assert abs(page.ink(core) / 10 - 156) <= 1 and abs(start / 10 - 28) <= 1
    reference = page.rows(masthead_top + 150, rule[0])
    assert abs((rule[0] - reference[-1]) / 10 - 4) <= 1
    dash = page.rows(bottom, page.height, at_least=40, x0=1300)
    assert abs((dash[0] - bottom) / 10 - 7) <= 1
