"""WordprocessingML snippets shared by the template build and the renderer.

``text`` is the one way user text enters the XML: control characters removed,
markup characters escaped, and ``{`` ``}`` written as character references so
that neither Jinja nor docxtpl's clean-up of ``{_{``-style sequences can touch
them (the XML parser turns them back into the literal characters).
"""

from __future__ import annotations

import re

from markupsafe import escape

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NAMESPACES = {
    "w": W_NS,
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "pic": "http://schemas.openxmlformats.org/drawingml/2006/picture",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
}
XMLNS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NAMESPACES.items())

#: C0 controls, DEL, and code points XML 1.0 cannot hold.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    """User text without control characters (they change a printed layout)."""
    return _UNPRINTABLE.sub("", value)


def text(value: str) -> str:
    """User text as the content of a ``w:t`` element."""
    return str(escape(clean(value))).replace("{", "&#123;").replace("}", "&#125;")


#: A tab character (w:tab) as a run of its own.
TAB = "<w:r><w:tab/></w:r>"


def run(content: str, props: str = "") -> str:
    """A run of already-escaped ``content`` with optional run properties XML."""
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    return f'<w:r>{rpr}<w:t xml:space="preserve">{content}</w:t></w:r>'


def paragraph(style: str, *runs: str, props: str = "") -> str:
    """A paragraph of ``style`` with extra paragraph properties (in schema order)."""
    return f'<w:p><w:pPr><w:pStyle w:val="{style}"/>{props}</w:pPr>{"".join(runs)}</w:p>'


def spacing(*, before: int | None = None, line: int | None = None) -> str:
    """``w:spacing``: space before in twips and an exact line height in twips."""
    attrs = "" if before is None else f' w:before="{before}"'
    if line is not None:
        attrs += f' w:line="{line}" w:lineRule="exact"'
    return f"<w:spacing{attrs}/>"


def indent(*, right: int) -> str:
    """``w:ind`` with a right indent in twips."""
    return f'<w:ind w:right="{right}"/>'
