"""Reading issued files back, for 四性检测 (可用性, 真实性): does it open, what does it say.

- ``docx_text``: the text of a .docx body — every paragraph in document order,
  including those inside tables and text boxes (the 版记 sits in one); headers
  and footers are left out. Raises UnreadableFile if it does not open.
- ``pdf_facts``: page count and extracted text of a PDF; raises UnreadableFile.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from docx import Document as open_docx
from docx.oxml.ns import qn
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from models.errors import GongwenError


class UnreadableFile(GongwenError):
    """A stored file that does not open in its format."""


def docx_text(data: bytes) -> str:
    """All paragraph text of a .docx body, one paragraph per line."""
    try:
        body = open_docx(io.BytesIO(data)).element.body
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise UnreadableFile(f"docx 无法打开：{exc}") from None
    return "\n".join("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p")))


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
