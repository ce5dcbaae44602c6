"""Fixtures for the 印制 tests: the seed notice laid out and rendered once per session."""

from __future__ import annotations

import shutil

import pytest

from doc_templates.render import render_docx
from models.directory import Directory
from models.layout import PrintLayout, layout_for
from models.refno import ReferenceNumber
from models.spec import DocumentSpec
from tests.doc_templates.docx_parts import Docx
from tests.servers.requirements import needs

SEED_REF = ReferenceNumber("汴打假", 2022, 3)

SOFFICE_MISSING = (
    "LibreOffice (soffice) is not installed: bash .ci/system-packages.sh" if shutil.which("soffice") is None else None
)
needs_soffice = needs(SOFFICE_MISSING)


@pytest.fixture(scope="session")
def seed_layout(notice: DocumentSpec, kaifeng: Directory) -> PrintLayout:
    return layout_for(notice, kaifeng, ref=SEED_REF)


@pytest.fixture(scope="session")
def seed_docx_bytes(seed_layout: PrintLayout) -> bytes:
    return render_docx(seed_layout)


@pytest.fixture(scope="session")
def seed_docx(seed_docx_bytes: bytes) -> Docx:
    return Docx(seed_docx_bytes)
