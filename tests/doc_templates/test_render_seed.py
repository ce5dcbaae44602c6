"""The seed notice (汴打假〔2022〕3号) rendered from its spec carries every element of the seed file."""

from __future__ import annotations

from tests.doc_templates.docx_parts import Docx, missing_in_order, seed_lines


def test_seed_text_appears_in_order(seed_docx: Docx) -> None:
    lines = seed_lines()
    assert len(lines) == 40
    assert lines[0] == "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组文件"
    assert missing_in_order(lines, seed_docx.text()) == []


def test_order_check_notices_a_missing_or_misplaced_element(seed_docx: Docx) -> None:
    lines = seed_lines()
    text = seed_docx.text()
    assert missing_in_order(lines, text.replace("抄送：各县（区）人民政府。", "")) == ["抄送：各县（区）人民政府。"]
    swapped = [lines[1], lines[0], *lines[2:]]  # 文号 before the 标志
    assert missing_in_order(swapped, text) != []
