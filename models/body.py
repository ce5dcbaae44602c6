"""正文 structure: paragraphs and the four heading levels of GB/T 9704-2012 §7.3.3.

A paragraph is text between blank lines (single line breaks inside it are
joined). A paragraph that starts with a 结构层次序数 is a heading of that level:
一、 (1, 黑体), （一） (2, 楷体), 1. (3, 仿宋), （1） (4, 仿宋); any other is level 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CN_NUMERAL = "一二三四五六七八九十百零"
_LEVELS = (
    (1, re.compile(rf"^[{_CN_NUMERAL}]+、")),
    (2, re.compile(rf"^（[{_CN_NUMERAL}]+）")),
    (3, re.compile(r"^[0-9]+[.．](?![0-9])")),
    (4, re.compile(r"^（[0-9]+）")),
)


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of 正文 and its heading level (0 = plain text)."""

    text: str
    level: int = 0


def heading_level(text: str) -> int:
    """结构层次 of a paragraph by its leading 序数, 0 when it has none."""
    for level, pattern in _LEVELS:
        if pattern.match(text):
            return level
    return 0


def paragraphs(text: str) -> list[Paragraph]:
    """Split 正文 at blank lines and classify each paragraph."""
    blocks = re.split(r"\n\s*\n", text.strip())
    result = []
    for block in blocks:
        joined = "".join(line.strip() for line in block.splitlines())
        if joined:
            result.append(Paragraph(joined, heading_level(joined)))
    return result
