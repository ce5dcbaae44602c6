"""Reading issued files back, for 四性检测 (可用性, 真实性): does it open, what does it say.

- ``docx_text``: the text of a .docx, paragraphs and tables in order, headers
  and footers left out; raises UnreadableFile if it does not open.
- ``pdf_facts``: page count and extracted text of a PDF; raises UnreadableFile.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from docx import Document as open_docx
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from models.errors import GongwenError


class UnreadableFile(GongwenError):
    """A stored file that does not open in its format."""


def docx_text(data: bytes) -> str:
    """All paragraph text of a .docx, one paragraph per line."""
    try:
        document = open_docx(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFile(f"docx 无法打开：{exc}") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        lines.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(lines)


@dataclass(frozen=True)
class PdfFacts:
    pages: int
    text: str


def pdf_facts(data: bytes) -> PdfFacts:
    """Page count and text of a PDF."""
    try:
        reader = PdfReader(io.BytesIO(data))
        return PdfFacts(len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages))
    except (PyPdfError, ValueError, OSError) as exc:
        raise UnreadableFile(f"PDF 无法打开：{exc}") from None
