"""Reading a rendered .docx for the conformance tests: parts as XML, paragraphs in order."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS = {
    "w": W,
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
}
SEED = Path(__file__).resolve().parents[2] / "examples" / "kaifeng" / "reference.txt"


def w(name: str) -> str:
    return f"{{{W}}}{name}"


@dataclass(frozen=True)
class Para:
    """A paragraph of the document: its style id and text."""

    style: str
    text: str
    element: etree._Element


class Docx:
    """A .docx opened for reading its XML."""

    def __init__(self, data: bytes) -> None:
        self.zip = zipfile.ZipFile(io.BytesIO(data))

    def xml(self, name: str) -> etree._Element:
        return etree.fromstring(self.zip.read(name))

    @property
    def document(self) -> etree._Element:
        return self.xml("word/document.xml")

    @property
    def styles(self) -> etree._Element:
        return self.xml("word/styles.xml")

    def paragraphs(self) -> list[Para]:
        """Every paragraph in document order, text boxes and tables included."""
        result = []
        for p in self.document.iter(w("p")):
            style = p.find("w:pPr/w:pStyle", NS)
            text = "".join(t.text or "" for t in p.iter(w("t")) if not _inside_nested(t, p))
            result.append(Para(style.get(w("val")) if style is not None else "", text, p))
        return result

    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs())

    def style(self, style_id: str) -> etree._Element:
        found = self.styles.find(f"w:style[@w:styleId='{style_id}']", NS)
        assert found is not None, f"no style {style_id}"
        return found

    def footer_parts(self) -> dict[str, etree._Element]:
        """Footers by reference type (default = odd pages, even, first)."""
        rels = etree.fromstring(self.zip.read("word/_rels/document.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels}
        sect = self.document.find(".//w:body/w:sectPr", NS)
        relationship = f"{{{NS['r']}}}id"
        return {
            ref.get(w("type")): self.xml(f"word/{targets[ref.get(relationship)]}")
            for ref in sect.findall("w:footerReference", NS)
        }


def _inside_nested(t: etree._Element, p: etree._Element) -> bool:
    """True when ``t`` belongs to a paragraph nested in ``p`` (a text box anchored in it)."""
    parent = t.getparent()
    while parent is not None and parent is not p:
        if parent.tag == w("p"):
            return True
        parent = parent.getparent()
    return False


def style_value(style: etree._Element, path: str, attribute: str = "val") -> str | None:
    found = style.find(path, NS)
    return None if found is None else found.get(w(attribute))


def squeeze(text: str) -> str:
    """Text without white space (the seed's extraction spaces digits and letter-spaced titles)."""
    return re.sub(r"\s+", "", text)


def seed_lines() -> list[str]:
    return [squeeze(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]


def missing_in_order(expected: list[str], text: str) -> list[str]:
    """The expected pieces not found in ``text`` in their order (each may overlap the one before by a character)."""
    haystack, position, missing = squeeze(text), 0, []
    for piece in expected:
        found = haystack.find(piece, position)
        if found < 0:
            missing.append(piece)
        else:
            position = found + 1
    return missing
