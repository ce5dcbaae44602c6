"""正文 structure: paragraphs and heading levels 1–4 (and 0)."""

from __future__ import annotations

import pytest

from models.body import Paragraph, heading_level, paragraphs
from models.spec import DocumentSpec


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("一、总体要求", 1),
        ("十、加强组织领导", 1),
        ("十二、其他", 1),
        ("二十一、附则", 1),
        ("（一）紧扣主题主线，汇聚奋进力量", 2),
        ("（十三）其他事项", 2),
        ("1. 坚持把学习宣传贯彻习近平新时代中国特色社会主义思想作为首要任务", 3),
        ("13. 强化能力建设。", 3),
        ("2．全角句点也算", 3),
        ("（1）第四层", 4),
        ("（12）第四层", 4),
        ("现将《实施方案》印发给你们。", 0),
        ("2022年将召开党的二十大。", 0),
        ("一是加强领导。", 0),
        ("(1) 半角括号不是结构层次序数", 0),
        ("(一) 半角括号", 0),
        ("1、顿号不是第三层", 0),
        ("一．句点不是第一层", 0),
        ("（注）", 0),
        ("", 0),
    ],
)
def test_heading_level(text: str, level: int) -> None:
    assert heading_level(text) == level


@pytest.mark.parametrize("text", ["3.5亿元专项资金已全部到位。", "2.3万人次参加培训。"])
def test_decimal_number_is_not_a_heading(text: str) -> None:
    assert heading_level(text) == 0


def test_paragraphs_split_at_blank_lines_and_join_lines() -> None:
    text = "\n\n一、总体\n要求\n\n  正文第一行\n  正文第二行  \n \t \n（一）小标题\n\n\n\n1. 第三层\n\n（1）第四层\n"
    assert paragraphs(text) == [
        Paragraph("一、总体要求", 1),
        Paragraph("正文第一行正文第二行", 0),
        Paragraph("（一）小标题", 2),
        Paragraph("1. 第三层", 3),
        Paragraph("（1）第四层", 4),
    ]


@pytest.mark.parametrize("text", ["", "\n\n", "   \n \n  "])
def test_empty_body_has_no_paragraphs(text: str) -> None:
    assert paragraphs(text) == []


def test_single_paragraph() -> None:
    assert paragraphs("只有一段。") == [Paragraph("只有一段。", 0)]


def test_seed_notice_body(kf_notice: DocumentSpec) -> None:
    parts = paragraphs(kf_notice.body)
    assert [p.text for p in parts] == [
        "现将《2022年开封市打击侵权假冒宣传工作实施方案》印发给你们，请结合工作实际，认真贯彻落实。",
        "联系人：郭佳佳",
        "电 话：0371—22783761",
        "邮 箱：kfsfld@163.com",
    ]
    assert {p.level for p in parts} == {0}


def test_seed_enclosure_structure(kf_notice: DocumentSpec) -> None:
    assert kf_notice.enclosure is not None
    parts = paragraphs(kf_notice.enclosure.body)
    headings = [(p.level, p.text[:6]) for p in parts if p.level]
    assert [h for h in headings if h[0] == 1] == [
        (1, "一、总体要求"),
        (1, "二、宣传重点"),
        (1, "三、创新方式"),
        (1, "四、加强组织"),
    ]
    assert [h for h in headings if h[0] == 2] == [(2, "（一）紧扣主"), (2, "（二）聚焦重")]
    assert [p.text.split(".")[0] for p in parts if p.level == 3] == [str(i) for i in range(1, 14)]
    assert len(parts) == 22
    assert parts[0].level == 0 and parts[0].text.startswith("2022年将召开党的二十大")
