"""models.layout: the print layout of a 公文 per GB/T 9704-2012 (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from models.body import Paragraph
from models.directory import Directory, parse_directory
from models.layout import (
    TITLE_LINE_CHARS,
    Kind,
    attachment_notes,
    chinese_date,
    closing_indents,
    layout_for,
    text_width,
    title_lines,
)
from models.refno import ReferenceNumber
from models.spec import DocumentSpec, parse_spec

REF = ReferenceNumber("汴打假", 2022, 3)
LEAD = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"


def spec(notice: DocumentSpec, **changes) -> DocumentSpec:
    data = notice.to_data() | changes
    return parse_spec({k: v for k, v in data.items() if v is not None})[0]


def test_seed_layout_carries_every_element(notice: DocumentSpec, kaifeng: Directory) -> None:
    layout = layout_for(notice, kaifeng, ref=REF)
    assert layout.kind is Kind.FILE
    assert layout.masthead == (f"{LEAD}文件",) and layout.masthead_suffix == ""
    assert layout.ref == "汴打假〔2022〕3号" == str(REF)
    assert layout.title == notice.title
    assert layout.to_line == "市打击侵权假冒工作领导小组相关成员单位，各县（区）打击侵权假冒工作领导小组："
    assert [p.text for p in layout.body][1:] == ["联系人：郭佳佳", "电 话：0371—22783761", "邮 箱：kfsfld@163.com"]
    assert layout.attachment_notes == () and layout.attachments == ()
    assert layout.signatures == (LEAD,)
    assert layout.signed_on == "2022年4月29日"
    assert layout.seal is None and layout.signature_gap == 1
    assert layout.enclosure is not None and layout.enclosure.label == ""
    assert layout.enclosure.title == "2022年开封市打击侵权假冒宣传工作实施方案"
    levels = {p.text[:6]: p.level for p in layout.enclosure.paragraphs}
    assert levels["一、总体要求"] == 1 and levels["（一）紧扣主"] == 2 and levels["1. 坚持把"] == 3
    assert layout.cc_report_line == "抄报：市打击侵权假冒工作领导小组组长、副组长，省打击侵权假冒工作领导小组办公室。"
    assert layout.cc_line == "抄送：各县（区）人民政府。"
    assert layout.printer == LEAD and layout.print_date == "2022年4月29日印发"
    assert layout.print_same_line is False  # 27 + 10 characters do not fit on one 4号 line
    assert layout.imprint_lines == 5  # 抄报 (two lines), 抄送, 印发机关, 印发日期


def test_draft_has_no_reference_number(notice: DocumentSpec, kaifeng: Directory) -> None:
    assert layout_for(notice, kaifeng, ref=None).ref == ""


def test_spec_ref_is_used_when_no_ref_is_given(notice: DocumentSpec, kaifeng: Directory) -> None:
    assert layout_for(spec(notice, ref="汴打假〔2021〕12号"), kaifeng, ref=None).ref == "汴打假〔2021〕12号"


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (dt.date(2022, 4, 29), "2022年4月29日"),
        (dt.date(2023, 1, 5), "2023年1月5日"),
        (dt.date(2024, 10, 1), "2024年10月1日"),
    ],
)
def test_dates_have_no_leading_zeros(day: dt.date, text: str) -> None:
    assert chinese_date(day) == text


def test_dates_fall_back_to_sign_off_and_issue_days(notice: DocumentSpec, kaifeng: Directory) -> None:
    undated = spec(notice, date=None, print_date=None)
    signed, issued = dt.date(2022, 5, 6), dt.date(2022, 5, 9)
    layout = layout_for(undated, kaifeng, ref=REF, signed_on=signed, issued_on=issued)
    assert (layout.signed_on, layout.print_date) == ("2022年5月6日", "2022年5月9日印发")
    assert layout_for(undated, kaifeng, ref=REF, signed_on=signed).print_date == "2022年5月6日印发"
    assert layout_for(notice, kaifeng, ref=REF, signed_on=signed).signed_on == "2022年4月29日"


def test_marks_copy_number_secrecy_urgency(notice: DocumentSpec, kaifeng: Directory) -> None:
    layout = layout_for(spec(notice, copy_no=42, secret="机密", secret_term="1年", urgency="特急"), kaifeng, ref=REF)
    assert (layout.copy_no, layout.secrecy, layout.urgency) == ("000042", "机密★1年", "特急")
    assert layout_for(spec(notice, copy_no=7, secret="秘密"), kaifeng, ref=REF).secrecy == "秘密"


def test_attachment_notes_and_labels(notice: DocumentSpec, kaifeng: Directory) -> None:
    assert attachment_notes(["名单"]) == ("附件：名单",)
    assert attachment_notes(["名单", "日程", "回执"]) == ("附件：1.名单", "2.日程", "3.回执")
    two = spec(notice, attachments=[{"title": "名单", "body": "甲"}, {"title": "日程", "body": "乙"}])
    layout = layout_for(two, kaifeng, ref=REF)
    assert [(a.label, a.title) for a in layout.attachments] == [("附件1", "名单"), ("附件2", "日程")]
    assert layout.attachments[1].paragraphs == (Paragraph("乙"),)
    one = layout_for(spec(notice, attachments=[{"title": "名单", "body": "甲"}]), kaifeng, ref=REF)
    assert one.attachments[0].label == "附件" and one.attachment_notes == ("附件：名单",)


def test_note_in_parentheses(notice: DocumentSpec, kaifeng: Directory) -> None:
    assert layout_for(spec(notice, note="此件公开发布"), kaifeng, ref=REF).note == ("（此件公开发布）",)
    assert layout_for(spec(notice, note="联系人：甲\n电话：1"), kaifeng, ref=REF).note == ("（联系人：甲", "电话：1）")
    assert layout_for(spec(notice, note="（已有括号）"), kaifeng, ref=REF).note == ("（已有括号）",)


def test_printer_defaults_to_lead_issuer_and_resolves_short_names(notice: DocumentSpec, kaifeng: Directory) -> None:
    assert layout_for(spec(notice, printer=None), kaifeng, ref=REF).printer == LEAD
    short = spec(notice, printer="市打击侵权假冒工作领导小组办公室")
    assert layout_for(short, kaifeng, ref=REF).printer == f"{LEAD}办公室"


def _directory(**lead_changes) -> Directory:
    agencies = [
        {"name": "甲市人民政府", "short": "甲市政府", "code": "甲政", "header": "甲市人民政府文件", **lead_changes},
        {"name": "甲市财政局", "code": "甲财", "parent": "甲市人民政府"},
        {"name": "甲市税务局", "code": "甲税", "parent": "甲市人民政府"},
        {"name": "乙省人民政府", "code": "乙政"},
    ]
    agencies[0]["parent"] = "乙省人民政府"
    people = [{"name": "王五", "agency": "甲市人民政府", "roles": ["signer"], "pin": "123456"}]
    return parse_directory({"agencies": agencies, "people": people})


def _spec(**values) -> DocumentSpec:
    return parse_spec(
        {
            "doc_type": "通知",
            "issuer": "甲市人民政府",
            "title": "关于某事的通知",
            "to": ["甲市财政局"],
            "body": "正文。",
            **values,
        }
    )[0]


def test_joint_issuers_stack_with_file_word_once() -> None:
    layout = layout_for(_spec(issuer=["甲市财政局", "甲市税务局"]), _directory(), ref=None)
    assert layout.masthead == ("甲市财政局", "甲市税务局") and layout.masthead_suffix == "文件"
    assert layout.signatures == ("甲市财政局", "甲市税务局")


def test_letter_minutes_and_upward_kinds() -> None:
    directory = _directory()
    letter = layout_for(_spec(doc_type="函", to=["甲市财政局"]), directory, ref=None)
    assert letter.kind is Kind.LETTER and letter.masthead == ("甲市人民政府",) and letter.masthead_suffix == ""
    minutes = layout_for(_spec(doc_type="纪要", to=[]), directory, ref=None)
    assert minutes.kind is Kind.MINUTES and minutes.masthead == ("甲市人民政府纪要",) and minutes.signatures == ()
    upward = layout_for(_spec(doc_type="请示", to=["乙省人民政府"], approval={"sign": "王五"}), directory, ref=None)
    assert upward.kind is Kind.UPWARD and upward.signers == "王五"
    assert layout_for(_spec(), directory, ref=None).signers == ""


def test_seal_from_the_directory_gives_the_sealed_layout() -> None:
    layout = layout_for(_spec(date="2023-01-05"), _directory(seal="/seals/甲.png"), ref=None)
    assert layout.seal == "/seals/甲.png" and layout.signature_gap == 2
    assert layout.date_indent == 4.0  # §7.3.5.1 成文日期右空四字
    assert layout.signature_indent == 4.0 + (text_width("2023年1月5日") - text_width("甲市人民政府")) / 2


@pytest.mark.parametrize(
    ("name", "date", "expected"),
    [
        ("甲市人民政府办公室", "2022年4月29日", (2.0, 2.0 + 9 - 2 - 6.5)),  # 署名右空二字, 日期首字右移二字
        ("甲市政府", "2022年12月29日", (4.0 + 7.0 - 4, 2.0)),  # 日期长于署名: 日期右空二字, 署名左移
        ("开" * 27, "2022年4月29日", (0.0, 27 - 2 - 6.5)),  # too long for its place: one line, no indent
    ],
)
def test_unsealed_closing_indents(name: str, date: str, expected: tuple[float, float]) -> None:
    assert closing_indents((name,), date, sealed=False) == expected


def test_text_width_counts_half_width_as_half() -> None:
    assert text_width("2022年4月29日") == 6.5 and text_width("甲A") == 1.5


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "关于印发《2022年开封市打击侵权假冒宣传工作实施方案》的通知",
            ("关于印发《2022年开封市打击", "侵权假冒宣传工作实施方案》的通知"),
        ),
        ("2022年开封市打击侵权假冒宣传工作实施方案", ("2022年开封市打击侵权假冒宣传工作", "实施方案")),
        (
            "关于进一步做好打击侵权假冒工作信息和经验材料报送工作的通知",
            ("关于进一步做好打击侵权假冒工作", "信息和经验材料报送工作的通知"),
        ),
        ("关于某事的通知", ("关于某事的通知",)),
    ],
)
def test_long_titles_break_between_words(title, expected):
    lines = title_lines(title)
    assert lines == expected
    assert "".join(lines) == title
    assert all(text_width(line) <= TITLE_LINE_CHARS for line in lines)
    assert not any(line[0] in "》），、。" for line in lines)
