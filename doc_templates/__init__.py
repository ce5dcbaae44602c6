"""印制 (printing): GB/T 9704-2012 .docx templates filled by docxtpl, PDF through LibreOffice.

The only package that imports docxtpl / python-docx. Entry point:
``print_document(spec, directory, ref=…, out_docx=…, out_pdf=…)`` lays the
document out (``models.layout``), renders the template of its 公文格式
(``render.render_docx``) and, when asked, converts it to PDF (``pdf``). The
.docx is written before the PDF is attempted, so a machine without
LibreOffice still gets it (and a ``PdfUnavailable`` saying what to install).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from doc_templates.errors import PdfFailed, PdfUnavailable, PrintError, TemplateBroken, TemplateFieldMissing
from doc_templates.pdf import OneShotConverter, PdfConverter, PersistentConverter, open_converter, page_count
from doc_templates.render import render_docx
from models.directory import Directory
from models.layout import layout_for
from models.refno import ReferenceNumber
from models.spec import DocumentSpec

__all__ = [
    "OneShotConverter",
    "PdfConverter",
    "PdfFailed",
    "PdfUnavailable",
    "PersistentConverter",
    "PrintError",
    "PrintResult",
    "TemplateBroken",
    "TemplateFieldMissing",
    "open_converter",
    "print_document",
    "render_docx",
]


@dataclass(frozen=True)
class PrintResult:
    """What ``print_document`` wrote: the .docx, and the PDF with its page count when asked."""

    docx: Path
    pdf: Path | None = None
    pages: int | None = None


def print_document(
    spec: DocumentSpec,
    directory: Directory,
    *,
    ref: ReferenceNumber | None,
    out_docx: Path,
    out_pdf: Path | None = None,
    pdfa: bool = False,
    signed_on: dt.date | None = None,
    issued_on: dt.date | None = None,
    converter: PdfConverter | None = None,
) -> PrintResult:
    """Print ``spec``: write the .docx, then the PDF (PDF/A-2b with ``pdfa``) if ``out_pdf``.

    ``converter`` lets a caller print through a LibreOffice kept running — its own
    (``PersistentConverter``, for a batch) or the server's pool (``pdf_service.ConverterClient``);
    without it a one-shot conversion is used.
    """
    layout = layout_for(spec, directory, ref=ref, signed_on=signed_on, issued_on=issued_on)
    out_docx = Path(out_docx)
    out_docx.parent.mkdir(parents=True, exist_ok=True)
    out_docx.write_bytes(render_docx(layout))
    if out_pdf is None:
        return PrintResult(out_docx)
    out_pdf = Path(out_pdf)
    if converter is not None:
        converter.convert(out_docx, out_pdf, pdfa=pdfa)
    else:
        with OneShotConverter() as one_shot:
            one_shot.convert(out_docx, out_pdf, pdfa=pdfa)
    return PrintResult(out_docx, out_pdf, page_count(out_pdf))
