"""Build the GB/T 9704-2012 .docx templates: ``python -m doc_templates.build``.

One template per 公文格式 (``models.layout.Kind``), all filled by the same context
(the fields of ``PrintLayout`` plus the fragments ``doc_templates.fragments``
draws). Each is an ordinary Word document: A4 with the §5.2.1 margins, the §5.2.3
document grid (22 lines × 28 characters), the STYLES of ``doc_templates.styles``,
page numbers (§7.5) in odd and even footers, and docxtpl tags in paragraphs of
the style they fill, so a person can restyle a template in Word. The output is
deterministic: fixed document properties and zip timestamps.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from pathlib import Path

from docx import Document
from docx.oxml import parse_xml
from docx.shared import Mm

from doc_templates.catalogue import TEMPLATES, template_path
from doc_templates.geometry import (
    EMU_PER_TWIP,
    LINE,
    MARGIN_BOTTOM,
    MARGIN_LEFT,
    MARGIN_RIGHT,
    MARGIN_TOP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    TEXT_WIDTH,
)
from doc_templates.styles import IMPRINT_BORDERS, styles_xml
from doc_templates.wordml import TAB, W_NS, XMLNS, paragraph, run
from models.layout import Kind

_FIXED_TIME = dt.datetime(2012, 7, 1, tzinfo=dt.UTC)  # GB/T 9704-2012 took effect
_ZIP_TIME = (2012, 7, 1, 0, 0, 0)
#: 一字线上距版心下边缘 7 mm (§7.5): the 4号 page number line ends 25.5 mm above the page
#: edge (measured on the PDF: the dash sits 2.5 mm under the top of its line).
_FOOTER_DISTANCE = Mm(25.5)
#: 信函格式 (§10.1): 发文机关标志 30 mm below the top edge of the page.
_LETTER_HEADER_DISTANCE = Mm(30)


# -- docxtpl tags ---------------------------------------------------------------
def tag(statement: str) -> str:
    """A paragraph holding a docxtpl paragraph tag (removed when rendered)."""
    return paragraph("GwBody", run(f"{{%p {statement} %}}"))


def row_tag(statement: str) -> str:
    """A paragraph holding a docxtpl table-row tag (its whole row is removed when rendered)."""
    return paragraph("GwImprint", run(f"{{%tr {statement} %}}"))


def field(style: str, expression: str) -> str:
    """A paragraph of ``style`` printing one value."""
    return paragraph(style, run(f"{{{{ {expression} }}}}"))


def lines_field(style: str, expression: str) -> str:
    """A paragraph of ``style`` printing a tuple of lines, with line breaks between them."""
    space = 'xml:space="preserve"'
    lines = (
        f"{{% for line in {expression} %}}{{{{ line }}}}"
        f"{{% if not loop.last %}}</w:t><w:br/><w:t {space}>{{% endif %}}{{% endfor %}}"
    )
    return paragraph(style, f"<w:r><w:t {space}>{lines}</w:t></w:r>")


def fragment(name: str) -> str:
    """A paragraph replaced by a fragment drawn in code (``{{p name }}``)."""
    return paragraph("GwBody", run(f"{{{{p {name} }}}}"))


def optional(style: str, name: str) -> list[str]:
    return [tag(f"if {name}"), field(style, name), tag("endif")]


# -- the parts of a template --------------------------------------------------------
def paragraphs_macro() -> list[str]:
    """正文 paragraphs in the style of their 结构层次 (§7.3.3), shared by 正文, 附件, 印发件.

    With ``keep_last`` the last paragraph keeps with what follows, so the 署名 and
    成文日期 never stand on a page without 正文 (§7.3.5.5).
    """
    levels = [("GwHeading1", 1), ("GwHeading2", 2), ("GwHeading3", 3), ("GwHeading4", 4)]
    parts = [tag("macro paragraphs(items, keep_last=false)"), tag("for item in items")]
    parts += [tag("if keep_last and loop.last"), field("GwBodyKeep", "item.text")]
    for style, level in levels:
        parts += [tag(f"elif item.level == {level}"), field(style, "item.text")]
    parts += [tag("else"), field("GwBody", "item.text"), tag("endif"), tag("endfor"), tag("endmacro")]
    return parts


def marks() -> list[str]:
    """份号, 密级和保密期限, 紧急程度, stacked top left (§7.2.1–7.2.3)."""
    return optional("GwCopyNo", "copy_no") + optional("GwSecrecy", "secrecy") + optional("GwUrgency", "urgency")


def head(kind: Kind) -> list[str]:
    """版头 (§7.2): marks, 发文机关标志, 发文字号 (with 签发人 for 上行文) over the red rule."""
    if kind is Kind.LETTER:
        return marks() + [field("GwLetterRef", "ref")]
    parts = marks() + [fragment("masthead_block")]
    if kind is Kind.UPWARD:
        signer = run("{{ signers }}", '<w:rStyle w:val="GwSignerName"/>')
        ref_line = paragraph("GwRefUpward", TAB, run("{{ ref }}"), TAB, run("签发人："), signer)
        return parts + [ref_line]
    return parts + [field("GwRef", "ref")]


def main_part() -> list[str]:
    """主体 (§7.3): 标题, 主送, 正文, 附件说明, 署名 and 成文日期, 附注."""
    return (
        [lines_field("GwTitle", "title_lines")]
        + optional("GwMainTo", "to_line")
        + [fragment("paragraphs(body, keep_last=true)")]
        + [tag("for line in attachment_notes"), tag("if loop.first"), field("GwAttachmentNote", "line")]
        + [tag("else"), field("GwAttachmentNoteMore", "line"), tag("endif"), tag("endfor")]
        + [fragment("closing_block")]
        + [tag("for line in note"), field("GwNote", "line"), tag("endfor")]
    )


def pages() -> list[str]:
    """The 印发件, then each 附件 (§7.3.7), each on a new page by its style, each with its 表格 if any."""
    return (
        [tag("if enclosure"), lines_field("GwEnclosureTitle", "enclosure.title_lines")]
        + [fragment("paragraphs(enclosure.paragraphs)"), *page_table("enclosure"), tag("endif")]
        + [tag("for page in attachments"), field("GwAttachmentLabel", "page.label")]
        + [lines_field("GwAttachmentTitle", "page.title_lines"), fragment("paragraphs(page.paragraphs)")]
        + [*page_table("page"), tag("endfor")]
    )


def page_table(page: str) -> list[str]:
    """The 表格 of an 附件 or the 印发件, after its paragraphs, when it has one (drawn in code)."""
    return [tag(f"if {page}.table"), fragment(f"table_block({page}.table)"), tag("endif")]


def _imprint_row(cells: Iterable[str], condition: str | None) -> str:
    width = f'<w:tcPr><w:tcW w:w="{TEXT_WIDTH}" w:type="dxa"/></w:tcPr>'
    row = f"<w:tr><w:tc>{width}{''.join(cells)}</w:tc></w:tr>"
    if condition is None:
        return row
    opening = f"<w:tr><w:tc>{width}{row_tag(f'if {condition}')}</w:tc></w:tr>"
    return f"{opening}{row}<w:tr><w:tc>{width}{row_tag('endif')}</w:tc></w:tr>"


def imprint(kind: Kind) -> list[str]:
    """版记 (§7.4) at the bottom of the last page.

    A table (抄报, 抄送, then 印发机关 and 印发日期) between full-width rules, in a
    text box anchored to the bottom of the 版心 so its last rule lies on the 版心's
    lower edge (§7.4.1); the anchor paragraph and blank lines after it, as many
    lines as the 版记 takes (``imprint_lines``), keep its room free on the last page. 信函格式 (§10.1): 抄送
    only, no rules, no 印发 line.
    """
    letter = kind is Kind.LETTER
    rows = [
        _imprint_row([field("GwImprint", "cc_report_line")], "cc_report_line"),
        _imprint_row([field("GwImprint", "cc_line")], "cc_line"),
    ]
    if not letter:
        same_line = paragraph("GwImprintPrint", run("{{ printer }}"), TAB, run("{{ print_date }}"))
        two_lines = [field("GwImprintPrint", "printer"), paragraph("GwImprintPrint", TAB, run("{{ print_date }}"))]
        rows.append(_imprint_row([tag("if print_same_line"), same_line, tag("else"), *two_lines, tag("endif")], None))
    borders = "" if letter else f"<w:tblBorders>{IMPRINT_BORDERS}</w:tblBorders>"
    table = (
        f'<w:tbl><w:tblPr><w:tblW w:w="{TEXT_WIDTH}" w:type="dxa"/>{borders}'
        f'<w:tblLayout w:type="fixed"/></w:tblPr><w:tblGrid><w:gridCol w:w="{TEXT_WIDTH}"/></w:tblGrid>'
        f"{''.join(rows)}</w:tbl>{paragraph('GwClosingMark')}"
    )
    box = _text_box(table, height=LINE * 4)
    anchor = paragraph("GwImprintSpace", f"<w:r>{box}</w:r>")
    spacers = [tag("for _ in range(imprint_lines - 1)"), paragraph("GwImprintSpace"), tag("endfor")]
    if letter:
        return [tag("if cc_report_line or cc_line"), anchor, *spacers, tag("endif")]
    return [anchor, *spacers]


def _text_box(content: str, *, height: int) -> str:
    """A text box as wide as the 版心, anchored to its bottom edge, text flowing over it."""
    cx, cy = TEXT_WIDTH * EMU_PER_TWIP, height * EMU_PER_TWIP
    return (
        '<w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="2" '
        'behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">'
        '<wp:simplePos x="0" y="0"/><wp:positionH relativeFrom="margin"><wp:align>center</wp:align></wp:positionH>'
        '<wp:positionV relativeFrom="margin"><wp:align>bottom</wp:align></wp:positionV>'
        f'<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
        '<wp:docPr id="1" name="版记"/><wp:cNvGraphicFramePr/>'
        '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f'<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
        '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>'
        f"<wps:txbx><w:txbxContent>{content}</w:txbxContent></wps:txbx>"
        '<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" anchor="b" anchorCtr="0">'
        "<a:spAutoFit/></wps:bodyPr></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
    )


def body(kind: Kind) -> list[str]:
    return paragraphs_macro() + head(kind) + main_part() + pages() + imprint(kind)


# -- the document -------------------------------------------------------------------
def _page_number(style: str) -> str:
    """— N — with a PAGE field (§7.5)."""
    field_runs = (
        '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
        '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
    )
    return paragraph(style, run("— "), field_runs, run(" —"))


def _fill(part_element, paragraphs_xml: list[str]) -> None:
    """Replace the content of a header, footer or body with ``paragraphs_xml``."""
    container = parse_xml(f"<w:body {XMLNS}>{''.join(paragraphs_xml)}</w:body>")
    keep = [child for child in part_element if child.tag == f"{{{W_NS}}}sectPr"]
    for child in list(part_element):
        part_element.remove(child)
    for child in list(container):
        part_element.append(child)
    for child in keep:
        part_element.append(child)


def build(kind: Kind) -> bytes:
    """The template for ``kind`` as .docx bytes."""
    document = Document()
    document.part._styles_part._element = parse_xml(styles_xml())
    settings = document.settings.element
    settings.find(f"{{{W_NS}}}themeFontLang").set(f"{{{W_NS}}}eastAsia", "zh-CN")
    document.settings.odd_and_even_pages_header_footer = True

    section = document.sections[0]
    section.page_width, section.page_height = PAGE_WIDTH * EMU_PER_TWIP, PAGE_HEIGHT * EMU_PER_TWIP
    section.top_margin, section.bottom_margin = MARGIN_TOP * EMU_PER_TWIP, MARGIN_BOTTOM * EMU_PER_TWIP
    section.left_margin, section.right_margin = MARGIN_LEFT * EMU_PER_TWIP, MARGIN_RIGHT * EMU_PER_TWIP
    section.footer_distance = _FOOTER_DISTANCE
    section.header_distance = _LETTER_HEADER_DISTANCE
    sect_pr = section._sectPr
    for grid in sect_pr.findall(f"{{{W_NS}}}docGrid"):
        sect_pr.remove(grid)
    sect_pr.append(parse_xml(f'<w:docGrid xmlns:w="{W_NS}" w:type="lines" w:linePitch="{LINE}"/>'))
    _fill(section.footer._element, [_page_number("GwPageOdd")])
    _fill(section.even_page_footer._element, [_page_number("GwPageEven")])
    if kind is Kind.LETTER:
        section.different_first_page_header_footer = True
        _fill(section.first_page_header._element, [fragment("masthead_block")])
        _fill(section.first_page_footer._element, [paragraph("GwLetterRule")])
    _fill(document.element.body, body(kind))

    properties = document.core_properties
    properties.author = properties.last_modified_by = "gongwen"
    properties.title = f"党政机关公文 {kind.value}（GB/T 9704-2012）"
    properties.created = properties.modified = _FIXED_TIME
    properties.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return _normalised_zip(buffer.getvalue())


def _normalised_zip(data: bytes) -> bytes:
    """The same package with fixed timestamps, so a rebuild changes no byte."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, _ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def main() -> None:
    TEMPLATES.mkdir(parents=True, exist_ok=True)
    for kind in Kind:
        path = template_path(kind)
        path.write_bytes(build(kind))
        print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}  {kind.value}")


if __name__ == "__main__":
    main()
