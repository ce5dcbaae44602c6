"""Errors of 印制 (printing), in the gongwen exception tree (models.errors).

GongwenError
└── PrintError              printing failed (exit 1)
    ├── TemplateFieldMissing    the template uses a value the context lacks
    ├── TemplateBroken          a template that Jinja cannot read
    ├── PdfUnavailable          no LibreOffice here: says what to install
    └── PdfFailed               LibreOffice ran and made no PDF
"""

from __future__ import annotations

from models.errors import GongwenError


class PrintError(GongwenError):
    """印制 failed: the .docx or the PDF could not be made."""

    exit_code = 1


class TemplateFieldMissing(PrintError):
    """A template refers to a value the print layout does not have; ``field`` names it."""


class TemplateBroken(PrintError):
    """A template (e.g. edited in Word) whose tags Jinja cannot parse."""


class PdfUnavailable(PrintError):
    """LibreOffice is not installed, so there is no PDF (the .docx is still made)."""


class PdfFailed(PrintError):
    """LibreOffice ran but did not produce a PDF."""
