"""The document spec: unknown keys, types, dates, limits, control characters, round trip."""

from __future__ import annotations

import copy
import datetime as dt
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from models.errors import InputError
from models.refno import ReferenceNumber
from models.spec import DocumentSpec, parse_spec
from models.validation import REFUSED_CHARACTERS
from models.vocabulary import DocType, Retention, Secrecy

MINIMAL = {"doc_type": "通知", "issuer": "市政府", "title": "关于测试的通知", "to": ["市公安局"], "body": "正文。"}


def _error(data: Any) -> InputError:
    with pytest.raises(InputError) as info:
        parse_spec(data)
    assert info.value.exit_code == 2
    return info.value


def _with(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(MINIMAL), **changes}


def test_minimal_spec_parses() -> None:
    spec, warnings = parse_spec(_with())
    assert warnings == []
    assert spec.doc_type is DocType.NOTICE
    assert spec.issuer == ["市政府"]
    assert spec.lead_issuer == "市政府"
    assert (spec.to, spec.cc, spec.cc_report, spec.attachments) == (["市公安局"], [], [], [])
    assert spec.date is None and spec.approval is None and spec.ref is None and spec.reference is None


# -- the kaifeng seed -----------------------------------------------------------


def test_kaifeng_notice_parses(kf_notice: DocumentSpec) -> None:
    assert kf_notice.doc_type is DocType.NOTICE
    assert kf_notice.issuer == ["开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"]
    assert kf_notice.title == "关于印发《2022年开封市打击侵权假冒宣传工作实施方案》的通知"
    assert kf_notice.to == ["市打击侵权假冒工作领导小组相关成员单位", "各县（区）打击侵权假冒工作领导小组"]
    assert kf_notice.date == dt.date(2022, 4, 29) == kf_notice.print_date
    assert kf_notice.cc == ["各县（区）人民政府"]
    assert kf_notice.cc_report == ["市打击侵权假冒工作领导小组组长、副组长", "省打击侵权假冒工作领导小组办公室"]
    assert kf_notice.retention is Retention.THIRTY_YEARS
    assert kf_notice.approval is not None
    assert (kf_notice.approval.review, kf_notice.approval.cosign, kf_notice.approval.sign) == (["李红梅"], [], "陈立新")
    assert kf_notice.enclosure is not None
    assert kf_notice.enclosure.title == "2022年开封市打击侵权假冒宣传工作实施方案"
    assert kf_notice.body.startswith("现将《2022年开封市打击侵权假冒宣传工作实施方案》印发给你们")


def test_to_data_round_trips(kf_notice: DocumentSpec) -> None:
    data = kf_notice.to_data()
    assert data["date"] == "2022-04-29" and data["doc_type"] == "通知"
    assert "ref" not in data and "attachments" not in data and "copy_no" not in data
    again, warnings = parse_spec(data)
    assert warnings == []
    assert again == kf_notice
    assert again.to_data() == data


def test_to_data_round_trips_every_key() -> None:
    full = _with(
        issuer=["市政府", "市公安局"],
        attachments=[{"title": "附件一", "body": "一、内容\n\n正文"}],
        enclosure={"title": "方案", "body": "正文"},
        note="联系人：张三",
        date="2022-04-29",
        cc_report=["省政府"],
        cc=["市商务局"],
        printer="市政府办公室",
        print_date="2022-04-30",
        copy_no=12,
        secret="机密",
        secret_term="5年",
        urgency="特急",
        retention="永久",
        approval={"review": ["甲"], "cosign": ["乙", "丙"], "sign": "丁"},
        ref="市政〔2022〕8号",
    )
    spec, _ = parse_spec(full)
    assert parse_spec(spec.to_data())[0] == spec
    assert spec.reference == ReferenceNumber("市政", 2022, 8)
    assert spec.secret is Secrecy.CONFIDENTIAL


# -- unknown and missing keys -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_with(foo=1), "foo"),
        (_with(subject="x"), "subject"),
        (_with(attachments=[{"title": "a", "body": "b", "page": 2}]), "attachments[0].page"),
        (_with(approval={"signer": "张三"}), "approval.signer"),
    ],
)
def test_unknown_key_names_the_field(data: dict[str, Any], field: str) -> None:
    error = _error(data)
    assert error.field == field
    assert error.message == "未知字段"


@pytest.mark.parametrize("key", ["doc_type", "issuer", "title", "body"])
def test_missing_required_key(key: str) -> None:
    data = _with()
    del data[key]
    error = _error(data)
    assert (error.field, error.message) == (key, "缺少必填字段")


def test_missing_attachment_title() -> None:
    error = _error(_with(attachments=[{"title": "一", "body": "b"}, {"body": "b"}]))
    assert (error.field, error.message) == ("attachments[1].title", "缺少必填字段")


@pytest.mark.parametrize("data", [None, [], "doc_type: 通知", 3])
def test_spec_must_be_a_mapping(data: Any) -> None:
    assert _error(data).field == "（根）"


# -- dates --------------------------------------------------------------------------

BAD_DATES = [
    ("2022-02-30", "不存在"),
    ("2022-13-01", "不存在"),
    ("2022/4/29", "YYYY-MM-DD"),
    ("2022-4-29", "YYYY-MM-DD"),
    ("29.04.2022", "YYYY-MM-DD"),
    ("2022年4月29日", "YYYY-MM-DD"),
    (20220429, "YYYY-MM-DD"),
    (dt.datetime(2022, 4, 29, 10, 30), "不含时间"),
    ("0001-01-01", "超出范围"),
    ("1949-09-30", "超出范围"),
    ("2100-01-01", "超出范围"),
    (dt.date(9999, 12, 31), "超出范围"),
    ("２０２２-０４-２９", "YYYY-MM-DD"),
]


@pytest.mark.parametrize(("value", "part"), BAD_DATES)
def test_bad_print_date(value: Any, part: str) -> None:
    error = _error(_with(print_date=value))
    assert error.field == "print_date"
    assert part in error.message


@pytest.mark.parametrize(("value", "part"), BAD_DATES)
def test_bad_date_names_the_field(value: Any, part: str) -> None:
    # regression: validation.input_error once dropped the loc part "date" as if it were a
    # pydantic union tag, reporting the error on "（根）"
    error = _error(_with(date=value))
    assert error.field == "date"
    assert part in error.message


@pytest.mark.parametrize("value", ["2022-04-29", dt.date(2022, 4, 29), "2024-02-29", "1949-10-01", "2099-12-31"])
def test_good_dates(value: Any) -> None:
    spec, _ = parse_spec(_with(date=value, print_date=value))
    assert spec.date == spec.print_date
    assert isinstance(spec.date, dt.date) and not isinstance(spec.date, dt.datetime)


# -- types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": 5}, "title", "应为文本"),
        ({"title": ["关于"]}, "title", "应为文本"),
        ({"body": 3.5}, "body", "应为文本"),
        ({"to": "市公安局"}, "to", "应为列表"),
        ({"cc": "市公安局"}, "cc", "应为列表"),
        ({"to": ["市公安局", 7]}, "to[1]", "应为文本"),
        ({"issuer": 5}, "issuer", "应为列表"),
        ({"issuer": []}, "issuer", "至少需要 1 项"),
        ({"issuer": [""]}, "issuer[0]", "不能为空"),
        ({"approval": "张三"}, "approval", "应为映射（键: 值）"),
        ({"approval": {"review": "张三"}}, "approval.review", "应为列表"),
        ({"attachments": {"title": "a", "body": "b"}}, "attachments", "应为列表"),
        ({"doc_type": "通知书"}, "doc_type", "应为以下之一"),
        ({"secret": "内部"}, "secret", "秘密"),
        ({"urgency": "急"}, "urgency", "特急"),
        ({"retention": "20年"}, "retention", "永久"),
        ({"title": ""}, "title", "不能为空"),
        ({"ref": 3}, "ref", "应为文本"),
    ],
)
def test_wrong_types(changes: dict[str, Any], field: str, message: str) -> None:
    error = _error(_with(**changes))
    assert error.field == field
    assert message in error.message


def test_issuer_accepts_a_single_string_or_a_list() -> None:
    assert parse_spec(_with(issuer="市政府"))[0].issuer == ["市政府"]
    assert parse_spec(_with(issuer=["市政府", "市公安局"]))[0].issuer == ["市政府", "市公安局"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12", "应为整数"),
        (True, "应为整数"),
        (False, "应为整数"),
        (1.0, "应为整数"),
        (0, "应 ≥ 1"),
        (-1, "应 ≥ 1"),
        (1_000_000, "应 ≤ 999999"),
    ],
)
def test_bad_copy_no(value: Any, message: str) -> None:
    error = _error(_with(copy_no=value))
    assert (error.field, error.message) == ("copy_no", message)


@pytest.mark.parametrize("value", [1, 42, 999_999])
def test_good_copy_no(value: int) -> None:
    assert parse_spec(_with(copy_no=value))[0].copy_no == value


# -- lengths -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"title": "标" * 201}, "title", "过长，最多 200 个字符"),
        ({"note": "注" * 2001}, "note", "过长，最多 2000 个字符"),
        ({"to": ["机" * 101]}, "to[0]", "过长，最多 100 个字符"),
        ({"issuer": [f"机关{i}" for i in range(21)]}, "issuer", "最多 20 项"),
        ({"attachments": [{"title": "题" * 201, "body": "b"}]}, "attachments[0].title", "过长"),
        ({"secret_term": "年" * 21}, "secret_term", "过长"),
    ],
)
def test_over_long_values(changes: dict[str, Any], field: str, message: str) -> None:
    error = _error(_with(**changes))
    assert error.field == field
    assert message in error.message


@pytest.mark.parametrize("blank", [" ", "\n\n", "\u3000\u3000", " \n "])
@pytest.mark.parametrize("key", ["title", "body", "note", "secret_term"])
def test_printed_text_that_is_only_blank_is_refused(key: str, blank: str) -> None:
    error = _error(_with(**{key: blank}))
    assert (error.field, error.message) == (key, "不能为空（只有空白字符）")


def test_limits_themselves_are_allowed() -> None:
    spec, _ = parse_spec(_with(title="标" * 200, note="注" * 2000, to=["机" * 100]))
    assert len(spec.title) == 200


# -- control characters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "name"),
    [
        ("\x00", "NUL"),
        ("\x07", "BEL"),
        ("\x0b", "VT"),
        ("\x1b", "ESC"),
        ("\x7f", "DEL"),
        ("\x85", "NEL"),
        ("\u2028", "LINE SEPARATOR"),
        ("\u202e", "RIGHT-TO-LEFT OVERRIDE"),
        ("\u2067", "RIGHT-TO-LEFT ISOLATE"),
        ("\u200b", "ZERO WIDTH SPACE"),
        ("\ufeff", "ZERO WIDTH NO-BREAK SPACE"),
        ("\ud800", "代理码位"),
        ("\uffff", "非字符"),
    ],
)
def test_control_characters_are_refused_naming_the_field(char: str, name: str) -> None:
    error = _error(_with(title=f"关于{char}印发的通知"))
    assert error.field == "title"
    assert f"U+{ord(char):04X}" in error.message and "第 3 个字符" in error.message
    assert name in error.message or char in "\x00\x07\x0b\x1b\x7f\x85"


def test_nested_control_characters_name_the_path() -> None:
    cases = {
        "attachments[0].title": _with(attachments=[{"title": "附件\x0b一", "body": "b"}]),
        "approval.review[0]": _with(approval={"review": ["李红\x00梅"]}),
        "approval.sign": _with(approval={"sign": "陈立\x1b新"}),
        "to[1]": _with(to=["市公安局", "市\x08商务局"]),
        "attachments[0].table.rows[0][0]": _with(
            attachments=[{"title": "表", "body": "b", "table": {"columns": ["甲"], "rows": [["\u202e乙"]]}}]
        ),
    }
    for field, data in cases.items():
        assert _error(data).field == field


def test_refused_characters_are_exactly_the_invisible_ones() -> None:
    """Unicode's Cc (but \\n, \\t and \\r, checked apart), Cf, Zl, Zp and Cs, and the noncharacters."""

    def invisible(char: str) -> bool:
        code = ord(char)
        kind = unicodedata.category(char)
        return (kind in ("Cc", "Cf", "Zl", "Zp", "Cs") and char not in "\n\t\r") or (
            (code & 0xFFFE) == 0xFFFE or 0xFDD0 <= code <= 0xFDEF
        )

    # U+13439–U+1343F became format characters after this Python's Unicode version
    differ = [hex(c) for c in range(0x110000) if bool(REFUSED_CHARACTERS.match(chr(c))) != invisible(chr(c))]
    assert set(differ) <= {hex(c) for c in range(0x13439, 0x13440)}


def test_key_with_a_control_character_is_named_escaped() -> None:
    error = _error({**_with(), "title\x00": "x"})
    assert error.field == "title\\x00"


@pytest.mark.parametrize(
    ("key", "field"), [(1, "1"), (None, "null"), (True, "true"), (dt.date(2022, 4, 29), "2022-04-29")]
)
def test_keys_must_be_text(key: Any, field: str) -> None:
    error = _error({**_with(), key: "x"})
    assert (error.field, error.message) == (field, "键应为文本")


def test_binary_values_are_refused() -> None:
    error = _error(_with(title=b"\xff\xd8"))
    assert error.field == "title" and "!!binary" in error.message


def test_tabs_are_removed_with_a_warning() -> None:
    spec, warnings = parse_spec(_with(title="关于\t印发的通知", body="第一段\n\n第二\t段\t"))
    assert (spec.title, spec.body) == ("关于印发的通知", "第一段\n\n第二段")
    assert warnings == ["title：已删除 1 个制表符", "body：已删除 2 个制表符"]


def test_newlines_are_kept_and_crlf_becomes_lf() -> None:
    spec, warnings = parse_spec(_with(body="第一段\r\n\r\n第二段\n第三行"))
    assert spec.body == "第一段\n\n第二段\n第三行"
    assert warnings == []


def test_lone_carriage_return_is_refused() -> None:
    error = _error(_with(note="联系人\r张三"))
    assert error.field == "note" and "U+000D" in error.message


# -- ref in a spec ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "part"),
    [
        ("汴打假[2022]3号", "「[」"),
        ("汴打假（2022）3号", "「（」"),
        ("汴打假〔2022〕第3号", "第"),
        ("汴打假〔2022〕03号", "「03」"),
        ("汴打假〔22〕3号", "年份「22」"),
        ("汴打假字〔2022〕3号", "「字」"),
        ("", "不能为空"),
    ],
)
def test_bad_ref(ref: str, part: str) -> None:
    error = _error(_with(ref=ref))
    assert error.field == "ref"
    assert part in error.message


def test_good_ref(make_spec: Callable[..., DocumentSpec]) -> None:
    spec = make_spec(ref="汴打假〔2022〕3号")
    assert spec.ref == "汴打假〔2022〕3号"
    assert spec.reference == ReferenceNumber("汴打假", 2022, 3)


def test_spec_is_frozen(kf_notice: DocumentSpec) -> None:
    with pytest.raises(ValidationError):
        kf_notice.title = "改"  # type: ignore[misc]
    assert kf_notice.title.startswith("关于印发")
