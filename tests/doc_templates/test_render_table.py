"""表格 in an 附件: a real Word table, read back with python-docx — rows, columns, 3号 styles."""

from __future__ import annotations

import io

import pytest
from docx import Document
from docx.shared import Pt

from doc_templates.geometry import TEXT_WIDTH
from doc_templates.render import render_docx
from models.directory import Directory
from models.errors import InputError
from models.layout import LINE_CHARS, layout_for, table_layout
from models.spec import parse_spec

COLUMNS = ["名次", "单位", "报送信息", "推送省办", "省简报采用", "国家网站采用"]
ROWS = [
    ["1", "顺河回族区", "3", "2", "1", "1"],
    ["2", "市文化广电和旅游局", "1", "0", "0", "0"],
    ["", "合计 <&> {{ x }}", "4", "2", "1", "1"],
]
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def circular(table: dict) -> dict:
    return {
        "doc_type": "通报",
        "issuer": "市打击侵权假冒工作领导小组办公室",
        "title": "关于2023年第一季度打击侵权假冒工作信息报送情况的通报",
        "to": ["各县（区）打击侵权假冒工作领导小组"],
        "body": "现将情况通报如下。",
        "attachments": [{"title": "2023年第一季度工作信息报送情况统计表", "body": "统计时段：略。", "table": table}],
        "approval": {"sign": "陈立新"},
    }


@pytest.fixture(scope="module")
def docx(kaifeng: Directory):
    spec, _ = parse_spec(circular({"columns": COLUMNS, "rows": ROWS}))
    return Document(io.BytesIO(render_docx(layout_for(spec, kaifeng, ref=None))))


def test_the_table_has_the_header_and_every_row_cell_by_cell(docx):
    [table] = docx.tables
    assert [[cell.text for cell in row.cells] for row in table.rows] == [COLUMNS, *ROWS]
    assert len(table.columns) == len(COLUMNS)


def test_cells_are_3hao_fangsong_and_the_header_3hao_heiti(docx):
    [table] = docx.tables
    head, cell = table.rows[0].cells[0].paragraphs[0], table.rows[1].cells[1].paragraphs[0]
    assert (head.style.name, cell.style.name) == ("表头", "表格文字")
    assert head.style.font.size == cell.style.font.size == Pt(16)  # 3号 (GB/T 9704 §5.2.2)
    fonts = {p.style.name: p.style.element.rPr.rFonts.get(f"{W}eastAsia") for p in (head, cell)}
    assert fonts == {"表头": "黑体", "表格文字": "仿宋_GB2312"}
    assert docx.styles["正文段落"].font.size == Pt(16)


def test_the_header_repeats_rows_do_not_split_and_the_table_fills_the_text_block(docx):
    [table] = docx.tables
    first = table.rows[0]._tr.trPr
    assert first.find(f"{W}tblHeader") is not None and first.find(f"{W}cantSplit") is not None
    assert all(row._tr.trPr.find(f"{W}tblHeader") is None for row in table.rows[1:])
    widths = [int(col.get(f"{W}w")) for col in table._tbl.tblGrid.findall(f"{W}gridCol")]
    assert sum(widths) == TEXT_WIDTH and widths[1] == max(widths)


def test_it_follows_the_attachment_body_on_the_attachment_page(docx):
    body = docx.element.body
    blocks = [child for child in body if child.tag in (f"{W}p", f"{W}tbl")]
    table_at = next(i for i, b in enumerate(blocks) if b.tag == f"{W}tbl")
    texts = ["".join(t.text or "" for t in b.iter(f"{W}t")) for b in blocks[:table_at]]
    assert texts[-1] == "统计时段：略。" and "附件" in texts


def test_widths_share_the_28_characters_by_what_the_columns_hold():
    layout = table_layout(COLUMNS, ROWS)
    assert sum(layout.widths) == pytest.approx(LINE_CHARS)
    assert layout.widths[1] > 9  # the longest unit name (9 characters) on one line


def test_a_row_wider_or_narrower_than_the_header_is_refused_naming_the_field():
    with pytest.raises(InputError) as error:
        parse_spec(circular({"columns": COLUMNS, "rows": [["1", "杞县"]]}))
    assert error.value.field == "attachments[0].table.rows"
    assert "第1行有2格，表头有6列" in error.value.message
