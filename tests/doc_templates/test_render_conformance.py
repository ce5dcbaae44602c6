"""Conformance of the rendered .docx to GB/T 9704-2012, read from its XML."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from docx import Document
from docxtpl import DocxTemplate

from doc_templates.build import build
from doc_templates.catalogue import template_path
from doc_templates.errors import PrintError, TemplateFieldMissing
from doc_templates.render import ENVIRONMENT, fill, render_docx
from models.directory import parse_directory
from models.layout import Kind, PrintLayout, layout_for
from models.spec import parse_spec
from tests.doc_templates.conftest import SEED_REF
from tests.doc_templates.docx_parts import NS, Docx, style_value, w

TWIPS_PER_MM = 1440 / 25.4


def mm_of(value: str | None) -> float:
    return int(value) / TWIPS_PER_MM


def test_page_is_a4_with_gbt9704_margins_and_grid(seed_docx: Docx) -> None:
    sect = seed_docx.document.find(".//w:body/w:sectPr", NS)
    size, margins = sect.find("w:pgSz", NS), sect.find("w:pgMar", NS)
    expected = {"w": 210, "h": 297}
    for key, value in expected.items():
        assert mm_of(size.get(w(key))) == pytest.approx(value, abs=1)
    for key, value in {"top": 37, "bottom": 35, "left": 28, "right": 26}.items():
        assert mm_of(margins.get(w(key))) == pytest.approx(value, abs=1)
    grid = sect.find("w:docGrid", NS)
    assert grid.get(w("type")) == "lines"  # see doc_templates.geometry: a character grid narrows LibreOffice's page
    text_height = int(size.get(w("h"))) - int(margins.get(w("top"))) - int(margins.get(w("bottom")))
    assert text_height // int(grid.get(w("linePitch"))) == 22
    body = seed_docx.style("GwBody").find("w:pPr/w:spacing", NS)
    assert body.get(w("line")) == grid.get(w("linePitch")) and body.get(w("lineRule")) == "exact"
    # 28 characters: 16 pt condensed by 0.25 pt each fit in the 156 mm line
    text_width = int(size.get(w("w"))) - int(margins.get(w("left"))) - int(margins.get(w("right")))
    condense = int(seed_docx.styles.find("w:docDefaults/w:rPrDefault/w:rPr/w:spacing", NS).get(w("val")))
    assert int(text_width / (320 + condense)) == 28


@pytest.mark.parametrize(
    ("style_id", "font", "half_points"),
    [
        ("GwMasthead", "方正小标宋简体", None),
        ("GwRef", "仿宋_GB2312", 32),
        ("GwTitle", "方正小标宋简体", 44),
        ("GwMainTo", "仿宋_GB2312", 32),
        ("GwBody", "仿宋_GB2312", 32),
        ("GwHeading1", "黑体", 32),
        ("GwHeading2", "楷体_GB2312", 32),
        ("GwHeading3", "仿宋_GB2312", 32),
        ("GwHeading4", "仿宋_GB2312", 32),
        ("GwAttachmentNote", "仿宋_GB2312", 32),
        ("GwSignature", "仿宋_GB2312", 32),
        ("GwDate", "仿宋_GB2312", 32),
        ("GwNote", "仿宋_GB2312", 32),
        ("GwAttachmentLabel", "黑体", 32),
        ("GwEnclosureTitle", "方正小标宋简体", 44),
        ("GwSecrecy", "黑体", 32),
        ("GwUrgency", "黑体", 32),
        ("GwImprint", "仿宋_GB2312", 28),
        ("GwImprintPrint", "仿宋_GB2312", 28),
        ("GwPageOdd", "宋体", 28),
        ("GwPageEven", "宋体", 28),
        ("GwSignerName", "楷体_GB2312", 32),
    ],
)
def test_each_element_has_its_font_and_size(seed_docx: Docx, style_id: str, font: str, half_points: int | None) -> None:
    style = seed_docx.style(style_id)
    assert style_value(style, "w:rPr/w:rFonts", "eastAsia") == font
    assert style_value(style, "w:rPr/w:rFonts", "ascii") == font
    if half_points is not None:
        assert style_value(style, "w:rPr/w:sz") == str(half_points)


def test_defaults_are_chinese_fangsong_16pt(seed_docx: Docx) -> None:
    defaults = seed_docx.styles.find("w:docDefaults/w:rPrDefault/w:rPr", NS)
    assert defaults.find("w:lang", NS).get(w("eastAsia")) == "zh-CN"
    assert defaults.find("w:rFonts", NS).get(w("eastAsia")) == "仿宋_GB2312"
    assert defaults.find("w:sz", NS).get(w("val")) == "32"


def test_masthead_and_rule_are_red_and_rule_spans_the_text_block(seed_docx: Docx) -> None:
    assert style_value(seed_docx.style("GwMasthead"), "w:rPr/w:color") in {"FF0000", "C00000"}
    ref = seed_docx.style("GwRef")
    rule = ref.find("w:pPr/w:pBdr/w:bottom", NS)
    assert rule.get(w("color")) in {"FF0000", "C00000"} and rule.get(w("val")) == "single"
    assert 2 <= int(rule.get(w("space"))) * 25.4 / 72 <= 4  # with the line's room under the 文号: 4 mm
    indent = ref.find("w:pPr/w:ind", NS)
    assert indent.get(w("left")) == indent.get(w("right")) == "0"  # as wide as the 版心: 156 mm
    masthead = next(p for p in seed_docx.paragraphs() if p.style == "GwMasthead")
    assert masthead.element.find("w:pPr/w:pBdr", NS) is None


def test_reference_number_reads_exactly_as_the_domain_formats_it(seed_docx: Docx) -> None:
    refs = [p.text for p in seed_docx.paragraphs() if p.style == "GwRef"]
    assert refs == [str(SEED_REF)] == ["汴打假〔2022〕3号"]


def test_elements_come_in_gbt9704_order(seed_docx: Docx, seed_layout: PrintLayout) -> None:
    styles = [p.style for p in seed_docx.paragraphs() if p.text]
    order = [
        "GwMasthead",
        "GwRef",
        "GwTitle",
        "GwMainTo",
        "GwBody",
        "GwSignature",
        "GwDate",
        "GwEnclosureTitle",
        "GwHeading1",
        "GwImprint",
        "GwImprintPrint",
    ]
    positions = [styles.index(style) for style in order]
    assert positions == sorted(positions)
    enclosure = [p for p in seed_docx.paragraphs() if p.style.startswith("GwHeading")]
    assert [p.text for p in enclosure if p.style == "GwHeading1"] == [
        "一、总体要求",
        "二、宣传重点",
        "三、创新方式方法，提升宣传实效",
        "四、加强组织领导，形成联动合力",
    ]
    assert sum(p.style == "GwHeading2" for p in enclosure) == 2
    assert sum(p.style == "GwHeading3" for p in enclosure) == 13


def test_imprint_content_order_and_rules(seed_docx: Docx) -> None:
    imprint = [p.text for p in seed_docx.paragraphs() if p.style in {"GwImprint", "GwImprintPrint"}]
    assert imprint == [
        "抄报：市打击侵权假冒工作领导小组组长、副组长，省打击侵权假冒工作领导小组办公室。",
        "抄送：各县（区）人民政府。",
        "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组",
        "2022年4月29日印发",
    ]
    table = seed_docx.document.find(".//w:txbxContent/w:tbl", NS)
    borders = table.find("w:tblPr/w:tblBorders", NS)
    top, bottom, inside = (int(borders.find(f"w:{edge}", NS).get(w("sz"))) for edge in ("top", "bottom", "insideH"))
    assert top == bottom > inside  # first and last rules thicker
    assert int(table.find("w:tblPr/w:tblW", NS).get(w("w"))) / TWIPS_PER_MM == pytest.approx(156, abs=1)
    (anchor,) = seed_docx.document.xpath(".//wp:anchor[wp:docPr/@name='版记']", namespaces=NS)
    assert anchor.find("wp:positionV/wp:align", NS).text == "bottom"
    assert anchor.find("wp:positionV", NS).get("relativeFrom") == "margin"
    print_line = seed_docx.style("GwImprintPrint").find("w:pPr/w:tabs/w:tab", NS)
    assert print_line.get(w("val")) == "right"


def test_page_numbers_in_odd_and_even_footers(seed_docx: Docx) -> None:
    settings = seed_docx.xml("word/settings.xml")
    assert settings.find("w:evenAndOddHeaders", NS) is not None
    footers = seed_docx.footer_parts()
    for kind, style, align in (("default", "GwPageOdd", "right"), ("even", "GwPageEven", "left")):
        footer = footers[kind]
        instructions = "".join(t.text for t in footer.iter(w("instrText")))
        assert instructions.strip() == "PAGE"
        text = "".join(t.text for t in footer.iter(w("t")))
        assert text == "— 1 —"
        assert footer.find(".//w:pStyle", NS).get(w("val")) == style
        assert style_value(seed_docx.style(style), "w:pPr/w:jc") == align


def test_new_page_before_enclosure_and_each_attachment(seed_docx: Docx) -> None:
    for style in ("GwEnclosureTitle", "GwAttachmentLabel"):
        assert seed_docx.style(style).find("w:pPr/w:pageBreakBefore", NS) is not None


def test_no_template_leftovers_or_empty_paragraphs(seed_docx: Docx) -> None:
    text = seed_docx.text()
    assert "{%" not in text and "{{" not in text
    spacing_only = {"GwImprintSpace", "GwClosingMark"}
    empty = [p.style for p in seed_docx.paragraphs() if not p.text and p.style not in spacing_only]
    assert empty == []
    assert sum(p.style == "GwImprintSpace" for p in seed_docx.paragraphs()) == 5  # as many lines as the 版记


def test_templates_are_current_and_deterministic() -> None:
    for kind in Kind:
        built = build(kind)
        assert built == build(kind)
        assert template_path(kind).read_bytes() == built, f"run python -m doc_templates.build ({kind.value})"


def test_templates_open_in_word_libraries_and_keep_layout_in_styles() -> None:
    for kind in Kind:
        document = Document(str(template_path(kind)))
        names = {style.name for style in document.styles}
        assert {"发文机关标志", "发文字号", "标题", "正文段落", "一级标题", "二级标题", "版记位置"} <= names


def test_missing_value_names_the_field() -> None:
    document = Document()
    document.add_paragraph("{{ signer_title }}")
    buffer = io.BytesIO()
    document.save(buffer)
    with pytest.raises(TemplateFieldMissing) as raised:
        fill(DocxTemplate(buffer), {}, "测试模板")
    assert raised.value.field == "signer_title" and "signer_title" in raised.value.message
    assert ENVIRONMENT.autoescape is True


# -- the other 公文格式 ------------------------------------------------------------
def _directory(**lead):
    agencies = [
        {"name": "甲省人民政府", "code": "甲政"},
        {"name": "甲市人民政府", "code": "甲市政", "header": "甲市人民政府文件", "parent": "甲省人民政府", **lead},
        {"name": "甲市财政局", "code": "甲财", "parent": "甲市人民政府"},
        {"name": "甲市税务局", "code": "甲税", "parent": "甲市人民政府"},
    ]
    people = [{"name": "王五", "agency": "甲市人民政府", "roles": ["signer"], "pin": "123456"}]
    return parse_directory({"agencies": agencies, "people": people})


def _render(directory, **values) -> Docx:
    spec = parse_spec(
        {
            "doc_type": "通知",
            "issuer": "甲市人民政府",
            "title": "关于某事的通知",
            "to": ["甲市财政局"],
            "body": "正文。",
            "date": "2023-01-05",
            **values,
        }
    )[0]
    return Docx(render_docx(layout_for(spec, directory, ref=None)))


def test_upward_document_has_reference_left_and_signer_right() -> None:
    docx = _render(_directory(), doc_type="请示", to=["甲省人民政府"], approval={"sign": "王五"})
    line = next(p for p in docx.paragraphs() if p.style == "GwRefUpward")
    assert line.text == "签发人：王五"  # a draft: no 发文字号 yet, then the label and name
    runs = line.element.findall("w:r", NS)
    assert runs[-1].find("w:rPr/w:rStyle", NS).get(w("val")) == "GwSignerName"
    assert len(line.element.findall(".//w:tab", NS)) == 2  # 文号 one character in, 签发人 right
    assert line.element.find("w:pPr/w:pStyle", NS) is not None
    assert docx.style("GwRefUpward").find("w:pPr/w:pBdr/w:bottom", NS).get(w("color")) == "FF0000"


def test_joint_masthead_stacks_issuers_with_file_word_once() -> None:
    docx = _render(_directory(), issuer=["甲市财政局", "甲市税务局"])
    table = docx.document.find(".//w:body/w:tbl", NS)
    cells = [
        ["".join(t.text for t in cell.iter(w("t"))) for cell in row.findall("w:tc", NS)]
        for row in table.findall("w:tr", NS)
    ]
    assert cells == [["甲市财政局", "文件"], ["甲市税务局", ""]]
    assert table.find("w:tr/w:tc/w:tcPr/w:vMerge", NS).get(w("val")) == "restart"


def test_letter_has_masthead_in_first_page_header_and_no_printer_line() -> None:
    docx = _render(_directory(), doc_type="函")
    sect = docx.document.find(".//w:body/w:sectPr", NS)
    assert sect.find("w:titlePg", NS) is not None
    assert docx.style("GwLetterMasthead").find("w:pPr/w:pBdr/w:bottom", NS).get(w("val")) == "thickThinSmallGap"
    headers = [name for name in docx.zip.namelist() if name.startswith("word/header")]
    header_text = "".join("".join(t.text for t in docx.xml(h).iter(w("t"))) for h in headers)
    assert "甲市人民政府" in header_text
    assert not [p for p in docx.paragraphs() if p.style == "GwImprintPrint"]


def test_minutes_have_their_mark_and_no_signature() -> None:
    docx = _render(_directory(), doc_type="纪要", to=[])
    assert [p.text for p in docx.paragraphs() if p.style == "GwMasthead"] == ["甲市人民政府纪要"]
    assert not [p for p in docx.paragraphs() if p.style == "GwSignature"]
    assert [p.text for p in docx.paragraphs() if p.style == "GwDate"] == ["2023年1月5日"]


def _png(path: Path) -> None:
    """A 4 × 4 red PNG (no imaging library needed)."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_seal_is_placed_over_signature_and_date(tmp_path: Path) -> None:
    seal = tmp_path / "seal.png"
    _png(seal)
    docx = _render(_directory(seal=str(seal)))
    date = next(p for p in docx.paragraphs() if p.style == "GwDate")
    anchor = date.element.find(".//wp:anchor", NS)
    assert anchor.find("wp:docPr", NS).get("name") == "印章"
    assert anchor.find("wp:positionV", NS).get("relativeFrom") == "paragraph"
    # centred on the date: 右空四字 plus half the date's width, from the right edge of the 版心
    centre = int(anchor.find("wp:positionH/wp:posOffset", NS).text) + int(anchor.find("wp:extent", NS).get("cx")) / 2
    assert centre / 635 == pytest.approx(8845 - 4 * 8845 / 28 - 6 * 8845 / 28 / 2, abs=2)  # 2023年1月5日: 6 字
    assert int(anchor.find("wp:extent", NS).get("cx")) == pytest.approx(42 * 36000, rel=0.001)  # 42 mm
    assert any(name.startswith("word/media/") for name in docx.zip.namelist())
    assert date.element.find("w:pPr/w:ind", NS).get(w("right")) == str(round(4 * 8845 / 28))  # 右空四字
    with pytest.raises(PrintError) as raised:
        _render(_directory(seal=str(tmp_path / "missing.png")))
    assert raised.value.field == "seal" and "missing.png" in raised.value.message
    unsealed = _render(_directory())
    assert unsealed.document.xpath(".//wp:docPr[@name='印章']", namespaces=NS) == []
