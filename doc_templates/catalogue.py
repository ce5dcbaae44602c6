"""Where the templates are: one .docx per 公文格式 under ``doc_templates/templates``."""

from __future__ import annotations

from pathlib import Path

from models.layout import Kind

TEMPLATES = Path(__file__).resolve().parent / "templates"
FILE_NAMES = {
    Kind.FILE: "file.docx",
    Kind.UPWARD: "upward.docx",
    Kind.LETTER: "letter.docx",
    Kind.MINUTES: "minutes.docx",
}


def template_path(kind: Kind) -> Path:
    return TEMPLATES / FILE_NAMES[kind]
