"""User text is data: every value of a spec appears exactly once, literally, in the document."""

from __future__ import annotations

import dataclasses

from doc_templates.render import render_docx
from models.directory import parse_directory
from models.layout import layout_for
from models.spec import parse_spec
from tests.doc_templates.docx_parts import Docx

TRICKY = "& < > \" ' {{ x }} {% if y %}z{% endif %} {_{ %_} {# c #}"
LONG_TITLE = "关于" + "加强和改进打击侵权假冒工作" * 13 + "的通知"

ISSUER = f"甲机关{TRICKY}"
VALUES = {
    "title": LONG_TITLE,
    "to": [f"主送一{TRICKY}", "主送二<b>"],
    "body": f"正文第一段{TRICKY}\n\n一、标题{TRICKY}\n\n（一）二级&amp;{TRICKY}\n\n"
    "1. 三级{{ title }}\n\n（1）四级{%p endfor %}",
    "attachments": [
        {"title": f"附件甲{TRICKY}", "body": f"附件甲正文{TRICKY}"},
        {"title": "附件乙]]>", "body": "附件乙正文<w:t>"},
    ],
    "enclosure": {"title": f"印发件{TRICKY}", "body": f"印发件正文{TRICKY}"},
    "note": f"附注{TRICKY}",
    "cc_report": [f"抄报甲{TRICKY}"],
    "cc": [f"抄送甲{TRICKY}", "抄送乙&lt;"],
    "printer": f"印发机关{TRICKY}",
    "date": "2023-01-05",
    "print_date": "2023-01-06",
    "copy_no": 42,
    "secret": "机密",
    "secret_term": f"5年{TRICKY}"[:20],
    "urgency": "特急",
}


def _document() -> str:
    directory = parse_directory({"agencies": [{"name": ISSUER, "code": "甲", "header": "甲机关文件"}]})
    spec = parse_spec({"doc_type": "通知", "issuer": ISSUER, **VALUES})[0]
    return Docx(render_docx(layout_for(spec, directory, ref=None))).text()


def test_every_value_appears_exactly_once_and_literally() -> None:
    text = _document()
    pieces = [
        LONG_TITLE,
        *VALUES["to"],
        f"正文第一段{TRICKY}",
        f"一、标题{TRICKY}",
        f"（一）二级&amp;{TRICKY}",
        "1. 三级{{ title }}",
        "（1）四级{%p endfor %}",
        f"附件甲正文{TRICKY}",
        "附件乙正文<w:t>",
        f"印发件{TRICKY}",
        f"印发件正文{TRICKY}",
        f"附注{TRICKY}",
        f"抄报甲{TRICKY}",
        f"抄送甲{TRICKY}",
        "抄送乙&lt;",
        f"印发机关{TRICKY}",
        "2023年1月5日",
        "2023年1月6日印发",
        "000042",
        f"机密★{VALUES['secret_term']}",
        "特急",
        ISSUER,
    ]
    counts = {piece: text.count(piece) for piece in pieces}
    assert counts == dict.fromkeys(pieces, 1)
    # an 附件 title is printed twice by design: in the 附件说明 and on its own page (§7.3.4, §7.3.7)
    assert text.count(f"附件甲{TRICKY}") == 2 and text.count("附件乙]]>") == 2
    assert "\n附件：1.附件甲" in text and "\n2.附件乙]]>" in text


def test_control_characters_are_removed_before_rendering(seed_layout) -> None:
    layout = dataclasses.replace(seed_layout, title_lines=("标\x07题\x0c换\x0b页\x00",), to_line="甲\t乙：")
    docx = Docx(render_docx(layout))
    assert [p.text for p in docx.paragraphs() if p.style == "GwTitle"] == ["标题换页"]
    assert [p.text for p in docx.paragraphs() if p.style == "GwMainTo"] == ["甲乙："]
    assert (
        docx.document.xpath(
            "//w:br[@w:type='page']", namespaces={"w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main"}
        )
        == []
    )
