"""STYLES: the named styles of the GB/T 9704-2012 templates, and styles.xml from them.

Layout lives here so a person can change it in Word (修改样式) without code:
every element of a 公文 has its own paragraph style, named in Chinese, with its
font (East Asian font set through ``w:rFonts/@w:eastAsia``), size, colour,
alignment, indents in 字 and spacing in 行.

Clauses: §5.2.2 3号仿宋 by default; §7.2.4 发文机关标志 red 小标宋; §7.2.5 发文字号
二行 under the 标志 with the red rule (§7.2.7) 4 mm under it; §7.2.6 签发人 label
仿宋 and names 楷体; §7.3.1 标题 2号小标宋 二行 under the rule; §7.3.2 主送 一行
under the 标题 (the 正文 too when there is no 主送); §7.3.3 正文 左空二字, headings
黑体 / 楷体 / 仿宋 / 仿宋; §7.3.4 附件说明;
§7.3.5 署名 and 成文日期; §7.3.6 附注 左空二字; §7.3.7 附件 label 3号黑体, title
centred on the third line, its 表格 in 3号 (表头 黑体, cells 仿宋); §7.4 版记 4号仿宋;
§7.5 页码 4号宋体, 一字线, odd pages 右空一字, even pages 左空一字; §10.1 信函格式 red double lines, 170 mm.
"""

from __future__ import annotations

from dataclasses import dataclass

from doc_templates.geometry import BODY_SIZE_PT, CONDENSE, LINE, TEXT_WIDTH, chars, lines, mm
from doc_templates.wordml import W_NS

FANGSONG, HEITI, KAITI, XIAOBIAOSONG, SONGTI = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
RED = "FF0000"
#: 4号 (14 pt) character, for 版记 and 页码 indents (左右各空一字).
SMALL_CHAR = 280
#: The red rule under the 发文字号 (§7.2.7): 156 mm wide (版心), 4 mm below the 文号's
#: characters (8 pt of border space plus the line's room under them; measured on the PDF).
RED_RULE = f'<w:bottom w:val="single" w:sz="18" w:space="8" w:color="{RED}"/>'
#: 信函格式 (§10.1): red double lines 170 mm long, 7 mm beyond each side of the 版心.
LETTER_OVERHANG = mm(7)
#: 版记 line height: 30 twips under a 行, so the 版记 with its rules takes no more 行 than it
#: has lines of text (the room kept for it on the last page).
IMPRINT_LINE = LINE - 30


@dataclass(frozen=True)
class Style:
    """One named style. Distances: ``left``/``right``/``first_line`` in twips, spacing in twips."""

    style_id: str
    name: str
    font: str = FANGSONG
    size: float = BODY_SIZE_PT
    color: str | None = None
    align: str = "left"
    left: int = 0
    right: int = 0
    first_line: int = 0  # negative: hanging
    before: int = 0
    after: int = 0
    line: int | None = LINE  # exact line height; None: single
    keep_next: bool = False
    page_break_before: bool = False
    borders: str = ""
    tabs: str = ""
    kind: str = "paragraph"

    def ppr(self) -> str:
        parts = []
        if self.keep_next:
            parts.append("<w:keepNext/>")
        if self.page_break_before:
            parts.append("<w:pageBreakBefore/>")
        if self.borders:
            parts.append(f"<w:pBdr>{self.borders}</w:pBdr>")
        if self.tabs:
            parts.append(f"<w:tabs>{self.tabs}</w:tabs>")
        line = f' w:line="{self.line}" w:lineRule="exact"' if self.line else ' w:line="240" w:lineRule="auto"'
        parts.append(f'<w:spacing w:before="{self.before}" w:after="{self.after}"{line}/>')
        first = f'w:hanging="{-self.first_line}"' if self.first_line < 0 else f'w:firstLine="{self.first_line}"'
        parts.append(f'<w:ind w:left="{self.left}" w:right="{self.right}" {first}/>')
        parts.append(f'<w:jc w:val="{self.align}"/>')
        return f"<w:pPr>{''.join(parts)}</w:pPr>"

    def rpr(self) -> str:
        color = f'<w:color w:val="{self.color}"/>' if self.color else ""
        half_points = round(self.size * 2)
        return f'<w:rPr>{fonts(self.font)}{color}<w:sz w:val="{half_points}"/><w:szCs w:val="{half_points}"/></w:rPr>'

    def xml(self) -> str:
        ppr = self.ppr() if self.kind == "paragraph" else ""
        based_on = "Normal" if self.kind == "paragraph" else "DefaultParagraphFont"
        return (
            f'<w:style w:type="{self.kind}" w:customStyle="1" w:styleId="{self.style_id}">'
            f'<w:name w:val="{self.name}"/><w:basedOn w:val="{based_on}"/>'
            f"<w:qFormat/>{ppr}{self.rpr()}</w:style>"
        )


def fonts(name: str) -> str:
    """``w:rFonts`` naming one font for every script, East Asian included."""
    return f'<w:rFonts w:ascii="{name}" w:hAnsi="{name}" w:eastAsia="{name}" w:cs="{name}"/>'


_TWO = chars(2)
_THIN, _THICK = 6, 8  # eighths of a point: 0.25 mm and 0.35 mm (§7.4.1)

STYLES: tuple[Style, ...] = (
    Style("GwCopyNo", "份号", align="left"),
    Style("GwSecrecy", "密级和保密期限", font=HEITI, align="left"),
    Style("GwUrgency", "紧急程度", font=HEITI, align="left"),
    Style("GwMasthead", "发文机关标志", font=XIAOBIAOSONG, size=36, color=RED, align="center", line=None),
    Style("GwRef", "发文字号", align="center", before=lines(2), keep_next=True, borders=RED_RULE),
    Style(
        "GwRefUpward",
        "发文字号和签发人",
        align="left",
        before=lines(2),
        keep_next=True,
        borders=RED_RULE,
        tabs=f'<w:tab w:val="left" w:pos="{chars(1)}"/><w:tab w:val="right" w:pos="{TEXT_WIDTH - chars(1)}"/>',
    ),
    Style("GwSignerName", "签发人姓名", font=KAITI, kind="character"),
    Style(
        "GwTitle", "标题", font=XIAOBIAOSONG, size=22, align="center", before=lines(2), after=lines(1), keep_next=True
    ),
    Style("GwMainTo", "主送机关", align="left"),
    Style("GwBody", "正文段落", first_line=_TWO),
    Style("GwBodyKeep", "正文末段", first_line=_TWO, keep_next=True),
    Style("GwHeading1", "一级标题", font=HEITI, first_line=_TWO, keep_next=True),
    Style("GwHeading2", "二级标题", font=KAITI, first_line=_TWO, keep_next=True),
    Style("GwHeading3", "三级标题", first_line=_TWO),
    Style("GwHeading4", "四级标题", first_line=_TWO),
    Style(
        "GwAttachmentNote",
        "附件说明",
        align="left",
        before=lines(1),
        left=chars(6),
        first_line=-chars(4),
        keep_next=True,
    ),
    Style("GwAttachmentNoteMore", "附件说明续行", align="left", left=chars(6), first_line=-chars(1), keep_next=True),
    Style("GwSignature", "发文机关署名", align="right", keep_next=True),
    Style("GwDate", "成文日期", align="right"),
    Style("GwNote", "附注", align="left", first_line=_TWO),
    Style("GwAttachmentLabel", "附件标识", font=HEITI, align="left", page_break_before=True, keep_next=True),
    Style(
        "GwAttachmentTitle",
        "附件标题",
        font=XIAOBIAOSONG,
        size=22,
        align="center",
        before=lines(1),
        after=lines(1),
        keep_next=True,
    ),
    Style(
        "GwEnclosureTitle",
        "印发件标题",
        font=XIAOBIAOSONG,
        size=22,
        align="center",
        after=lines(1),
        keep_next=True,
        page_break_before=True,
    ),
    Style(
        "GwImprint",
        "抄送机关",
        size=14,
        align="left",
        left=SMALL_CHAR * 4,
        right=SMALL_CHAR,
        first_line=-SMALL_CHAR * 3,
        line=IMPRINT_LINE,
    ),
    Style(
        "GwImprintPrint",
        "印发机关和印发日期",
        size=14,
        align="left",
        left=SMALL_CHAR,
        right=SMALL_CHAR,
        tabs=f'<w:tab w:val="right" w:pos="{TEXT_WIDTH - SMALL_CHAR}"/>',
        line=IMPRINT_LINE,
    ),
    Style("GwTableHead", "表头", font=HEITI, align="center"),
    Style("GwTableCell", "表格文字", align="center"),
    Style("GwImprintSpace", "版记位置", align="left", keep_next=True),
    Style("GwClosingMark", "表后段落", size=1, line=20, align="left"),
    Style("GwPageOdd", "页码单页", font=SONGTI, size=14, align="right", right=SMALL_CHAR, line=SMALL_CHAR),
    Style("GwPageEven", "页码双页", font=SONGTI, size=14, align="left", left=SMALL_CHAR, line=SMALL_CHAR),
    Style(
        "GwLetterMasthead",
        "信函发文机关标志",
        font=XIAOBIAOSONG,
        size=36,
        color=RED,
        align="center",
        line=None,
        left=-LETTER_OVERHANG,
        right=-LETTER_OVERHANG,
        borders=f'<w:bottom w:val="thickThinSmallGap" w:sz="24" w:space="11" w:color="{RED}"/>',
    ),
    Style("GwLetterRef", "发文字号（信函）", align="right", before=round(LINE * 7 / 8 - LINE / 2)),
    Style(
        "GwLetterRule",
        "信函下边线",
        size=1,
        line=20,
        left=-LETTER_OVERHANG,
        right=-LETTER_OVERHANG,
        borders=f'<w:top w:val="thinThickSmallGap" w:sz="24" w:space="0" w:color="{RED}"/>',
    ),
)

#: Borders of the 版记 table (§7.4.1): first and last rules thick, those between thin.
IMPRINT_BORDERS = (
    f'<w:top w:val="single" w:sz="{_THICK}" w:space="0" w:color="000000"/>'
    f'<w:bottom w:val="single" w:sz="{_THICK}" w:space="0" w:color="000000"/>'
    f'<w:insideH w:val="single" w:sz="{_THIN}" w:space="0" w:color="000000"/>'
)

#: Borders of a table in an 附件: single 0.5 pt lines all round and between the cells.
TABLE_BORDERS = "".join(
    f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
    for side in ("top", "left", "bottom", "right", "insideH", "insideV")
)

#: Paragraphs are left-aligned: full-width characters on a 28-character line keep the right
#: edge straight, and LibreOffice 7.4 loses a comma hanging past the margin in a justified line.
_DEFAULTS = (
    "<w:docDefaults><w:rPrDefault><w:rPr>"
    f'{fonts(FANGSONG)}<w:spacing w:val="{CONDENSE}"/>'
    f'<w:sz w:val="{BODY_SIZE_PT * 2}"/><w:szCs w:val="{BODY_SIZE_PT * 2}"/>'
    '<w:lang w:val="zh-CN" w:eastAsia="zh-CN" w:bidi="ar-SA"/>'
    "</w:rPr></w:rPrDefault><w:pPrDefault><w:pPr>"
    '<w:widowControl w:val="0"/><w:autoSpaceDE w:val="0"/><w:autoSpaceDN w:val="0"/><w:snapToGrid w:val="0"/>'
    f'<w:spacing w:before="0" w:after="0" w:line="{LINE}" w:lineRule="exact"/><w:jc w:val="left"/>'
    "</w:pPr></w:pPrDefault></w:docDefaults>"
)

_BUILT_IN = (
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>'
    '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
    '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>'
    '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
    '<w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar>'
    '<w:top w:w="0" w:type="dxa"/><w:left w:w="0" w:type="dxa"/>'
    '<w:bottom w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar></w:tblPr></w:style>'
    '<w:style w:type="numbering" w:default="1" w:styleId="NoList"><w:name w:val="No List"/><w:semiHidden/></w:style>'
)


def styles_xml() -> str:
    """The whole styles.xml part: document defaults, Word's built-ins, then STYLES."""
    return f'<w:styles xmlns:w="{W_NS}">{_DEFAULTS}{_BUILT_IN}{"".join(style.xml() for style in STYLES)}</w:styles>'
