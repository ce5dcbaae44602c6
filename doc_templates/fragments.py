"""The parts of a 公文 whose geometry depends on their text, drawn as WordprocessingML.

Styles give fonts and alignment; these fragments add only what a style cannot
know in advance, and are passed to the template as ``{{p masthead_block }}``
and ``{{p closing_block }}``:

- 发文机关标志 (GB/T 9704 §7.2.4): its top edge 35 mm below the 版心's, under the
  份号 / 密级 / 紧急程度 lines there are; the size and horizontal scale that fit the
  name in the 版心 (醒目、美观、庄重); 联合行文 as a table, names stacked left, 文件
  once on their right, centred between them. 信函格式 (§10.1): the name alone.
- 署名 and 成文日期 (§7.3.5): right indents from the layout; the 印章 image, if the
  agency has one, over them, centred on the date (§7.3.5.1).
- 表格 of an 附件 (``{{p table_block(page.table) }}``): as wide as the 版心, columns as
  the layout shares them out, the 表头 (style 表头) repeated on every page, cells in
  style 表格文字, no row split across pages.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from doc_templates.geometry import EMU_PER_TWIP, LINE, TEXT_WIDTH, chars, lines, mm
from doc_templates.styles import TABLE_BORDERS
from doc_templates.wordml import NAMESPACES, indent, paragraph, run, spacing, text
from models.layout import Kind, PrintLayout, TableLayout, text_width

#: 发文机关标志 size range: 小初 (36 pt) down to 一号 (26 pt), then narrower characters.
MASTHEAD_LARGEST, MASTHEAD_SMALLEST = 36.0, 26.0
#: Line height of the 标志 and its top edge's depth in it, in em (measured on the PDF).
_MASTHEAD_LINE, _MASTHEAD_TOP = 1.3, 0.16
#: §7.2.4: 发文机关标志上边缘至版心上边缘为 35 mm.
_MASTHEAD_DEPTH = mm(35)
#: 联合行文: every issuer's name as wide as the longest (分散对齐).
_DISTRIBUTE = '<w:jc w:val="distribute"/>'
#: 印章 width (common 42 mm agency seal); its centre sits this many lines under the 署名 line's top.
SEAL_WIDTH = mm(42)
_SEAL_CENTRE = 0.8

_DRAWING_NAMESPACES = " ".join(f'xmlns:{p}="{NAMESPACES[p]}"' for p in ("wp", "a", "pic", "r"))
#: Adds an image part to the document being rendered: path -> (relationship id, width px, height px).
ImageAdder = Callable[[str], tuple[str, int, int]]


def masthead_fit(width: float, room: int) -> tuple[float, int]:
    """Font size (pt) and horizontal scale (%) that fit ``width`` characters in ``room`` twips."""
    size = min(MASTHEAD_LARGEST, max(MASTHEAD_SMALLEST, room / 20 / width))
    return size, _scale(width, size, room)


def _scale(width: float, size: float, room: int) -> int:
    """Horizontal scale (%) that fits ``width`` characters of ``size`` pt in ``room`` twips."""
    return min(100, math.floor(100 * room / 20 / (width * size)))


def _masthead_run(name: str, size: float, scale: int) -> str:
    half_points = round(size * 2)
    props = f'<w:w w:val="{scale}"/><w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/>'
    return run(text(name), props)


def masthead_block(layout: PrintLayout) -> str:
    """发文机关标志 (§7.2.4, §10.1, §10.3) for the layout's kind."""
    if layout.kind is Kind.LETTER:
        name = layout.masthead[0]
        size, scale = masthead_fit(text_width(name), TEXT_WIDTH)
        return paragraph("GwLetterMasthead", _masthead_run(name, size, scale))
    marks = sum(1 for mark in (layout.copy_no, layout.secrecy, layout.urgency) if mark)
    if not layout.masthead_suffix:
        name = layout.masthead[0]
        size, scale = masthead_fit(text_width(name), TEXT_WIDTH)
        line = round(size * 20 * _MASTHEAD_LINE)
        before = _MASTHEAD_DEPTH - lines(marks) - round(size * 20 * _MASTHEAD_TOP)
        return paragraph("GwMasthead", _masthead_run(name, size, scale), props=spacing(before=before, line=line))
    return _joint_masthead(layout, marks)


def _joint_masthead(layout: PrintLayout, marks: int) -> str:
    """联合行文: issuers stacked, each as wide as the longest, 文件 once on their right."""
    suffix = layout.masthead_suffix
    longest = max(text_width(name) for name in layout.masthead)
    size, _ = masthead_fit(longest + text_width(suffix) + 0.5, TEXT_WIDTH)
    suffix_room = round((text_width(suffix) + 0.5) * size * 20)
    names_room = TEXT_WIDTH - suffix_room
    scale = _scale(longest, size, names_room)
    line = round(size * 20 * _MASTHEAD_LINE)
    height = spacing(line=line)
    rows = []
    for i, name in enumerate(layout.masthead):
        merge = '<w:vMerge w:val="restart"/>' if i == 0 else "<w:vMerge/>"
        suffix_runs = _masthead_run(suffix, size, 100) if i == 0 else ""
        rows.append(
            f'<w:tr><w:tc><w:tcPr><w:tcW w:w="{names_room}" w:type="dxa"/></w:tcPr>'
            f"{paragraph('GwMasthead', _masthead_run(name, size, scale), props=height + _DISTRIBUTE)}</w:tc>"
            f'<w:tc><w:tcPr><w:tcW w:w="{suffix_room}" w:type="dxa"/>{merge}<w:vAlign w:val="center"/></w:tcPr>'
            f"{paragraph('GwMasthead', suffix_runs, props=height)}</w:tc></w:tr>"
        )
    before = _MASTHEAD_DEPTH - lines(marks) - round(size * 20 * _MASTHEAD_TOP)
    spacer = paragraph("GwMasthead", props=spacing(before=0, line=max(before, 20)))
    table = (
        f'<w:tbl><w:tblPr><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:tblLayout w:type="fixed"/></w:tblPr>'
        f'<w:tblGrid><w:gridCol w:w="{names_room}"/><w:gridCol w:w="{suffix_room}"/></w:tblGrid>{"".join(rows)}</w:tbl>'
    )
    return spacer + table


def closing_block(layout: PrintLayout, add_image: ImageAdder) -> str:
    """署名 lines and the 成文日期 (§7.3.5), with the 印章 over them when there is one.

    The 印章 is anchored to the 成文日期 (or, without a date, to the first 署名) so
    its position counts from a paragraph without space above it.
    """
    gap = spacing(before=lines(layout.signature_gap))
    seal = _seal(layout, add_image) if layout.seal and layout.signatures else ""
    parts = []
    for i, name in enumerate(layout.signatures):
        props = (gap if i == 0 else "") + indent(right=chars(layout.signature_indent))
        held = seal if i == 0 and not layout.signed_on else ""
        parts.append(paragraph("GwSignature", held, run(text(name)), props=props))
    if layout.signed_on:
        props = ("" if parts else gap) + indent(right=chars(layout.date_indent))
        parts.append(paragraph("GwDate", seal, run(text(layout.signed_on)), props=props))
    return "".join(parts)


def _seal(layout: PrintLayout, add_image: ImageAdder) -> str:
    """印章 (§7.3.5.1): 端正、居中下压署名和成文日期, centred on the date.

    Its centre sits ``_SEAL_CENTRE`` lines below the top of the first 署名 line,
    measured from the top of the paragraph that holds it.
    """
    relationship, width_px, height_px = add_image(layout.seal)
    cx = SEAL_WIDTH * EMU_PER_TWIP
    cy = round(cx * height_px / width_px)
    if layout.signed_on:
        right, width = layout.date_indent, text_width(layout.signed_on)
        from_top = _SEAL_CENTRE - len(layout.signatures)
    else:
        right, width = layout.signature_indent, text_width(layout.signatures[0])
        from_top = _SEAL_CENTRE + layout.signature_gap
    centre_x = (TEXT_WIDTH - chars(right) - chars(width) / 2) * EMU_PER_TWIP
    centre_y = round(from_top * LINE * EMU_PER_TWIP)
    return (
        f"<w:r><w:drawing {_DRAWING_NAMESPACES}>"
        '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="3" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
        f'<wp:positionH relativeFrom="margin"><wp:posOffset>{round(centre_x - cx / 2)}</wp:posOffset></wp:positionH>'
        f'<wp:positionV relativeFrom="paragraph"><wp:posOffset>{centre_y - cy // 2}</wp:posOffset></wp:positionV>'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        '<wp:docPr id="2" name="印章"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
        '<pic:pic><pic:nvPicPr><pic:cNvPr id="2" name="印章"/><pic:cNvPicPr/></pic:nvPicPr>'
        f'<pic:blipFill><a:blip r:embed="{relationship}"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
        f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic>'
        "</a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>"
    )


#: Room between a cell's border and its text, left and right (twips: 1 mm).
_CELL_MARGIN = mm(1)


def table_block(table: TableLayout) -> str:
    """A 表格 (an 附件's statistics, say) across the 版心: 表头 row first, repeated on each page."""
    widths = [chars(width) for width in table.widths[:-1]]
    widths.append(TEXT_WIDTH - sum(widths))
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    margins = f'<w:left w:w="{_CELL_MARGIN}" w:type="dxa"/><w:right w:w="{_CELL_MARGIN}" w:type="dxa"/>'
    properties = (
        f'<w:tblPr><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{TABLE_BORDERS}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        f"<w:tblCellMar>{margins}</w:tblCellMar></w:tblPr>"
    )
    rows = [_table_row(table.columns, widths, "GwTableHead", "<w:tblHeader/>")]
    rows += [_table_row(row, widths, "GwTableCell") for row in table.rows]
    return f"<w:tbl>{properties}<w:tblGrid>{grid}</w:tblGrid>{''.join(rows)}</w:tbl>"


def _table_row(cells: tuple[str, ...], widths: list[int], style: str, header: str = "") -> str:
    tcs = "".join(
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/><w:vAlign w:val="center"/></w:tcPr>'
        f"{paragraph(style, run(text(cell)) if cell else '')}</w:tc>"
        for cell, width in zip(cells, widths, strict=True)
    )
    return f"<w:tr><w:trPr><w:cantSplit/>{header}</w:trPr>{tcs}</w:tr>"
