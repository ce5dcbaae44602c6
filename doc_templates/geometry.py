"""GB/T 9704-2012 page geometry in Word units (twips = 1/20 pt, EMU = 1/914400 inch).

§5.1 A4 210 × 297 mm; §5.2.1 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm (so the
right margin is 26 mm and the bottom 35 mm); §5.2.3 22 lines × 28 characters.
"""

from __future__ import annotations

TWIPS_PER_MM = 1440 / 25.4
EMU_PER_TWIP = 635


def mm(value: float) -> int:
    """Millimetres to twips."""
    return round(value * TWIPS_PER_MM)


PAGE_WIDTH, PAGE_HEIGHT = mm(210), mm(297)
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_LEFT, MARGIN_RIGHT = mm(37), mm(35), mm(28), mm(26)
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT  # 156 mm
TEXT_HEIGHT = PAGE_HEIGHT - MARGIN_TOP - MARGIN_BOTTOM  # 225 mm
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
#: One 行: 225 mm / 22, rounded down so that 22 lines always fit.
LINE = TEXT_HEIGHT // LINES_PER_PAGE
#: One 字 of 3号 (16 pt) text on the 28-character grid.
CHAR = TEXT_WIDTH / CHARS_PER_LINE
#: 3号 = 16 pt, condensed by 0.25 pt (5 twentieths) so 28 fit in 156 mm in Word and LibreOffice.
#: The document grid is a line grid only: with a character grid (``linesAndChars`` and the
#: negative ``charSpace`` 28 characters need), LibreOffice 7.4 narrows the text block to
#: 153.4 mm and sets 27 characters a line.
BODY_SIZE_PT, CONDENSE = 16, -5


def chars(count: float) -> int:
    """A distance of ``count`` 3号 characters (字), in twips."""
    return round(count * CHAR)


def lines(count: float) -> int:
    """A distance of ``count`` lines (行), in twips."""
    return round(count * LINE)
