"""发文字号: strict parse, the error naming the wrong thing, parse(str(x)) == x."""

from __future__ import annotations

import pickle
import random

import pytest

from models.errors import GongwenError, InputError
from models.refno import ReferenceNumber

# -- good forms -----------------------------------------------------------------

GOOD = [
    ("汴打假〔2022〕3号", "汴打假", 2022, 3),
    ("汴打假办〔2022〕2号", "汴打假办", 2022, 2),
    ("打假办发〔2022〕2号", "打假办发", 2022, 2),
    ("国办发〔2013〕101号", "国办发", 2013, 101),
    ("汴打假〔2022〕10号", "汴打假", 2022, 10),
    ("汴打假〔2022〕1234567890号", "汴打假", 2022, 1234567890),
    ("ABC〔2022〕1号", "ABC", 2022, 1),
    ("豫Q2〔1999〕20号", "豫Q2", 1999, 20),
    ("x〔1000〕1号", "x", 1000, 1),
    ("汴〔9999〕99号", "汴", 9999, 99),
]


@pytest.mark.parametrize(("text", "code", "year", "serial"), GOOD)
def test_good_forms_parse(text: str, code: str, year: int, serial: int) -> None:
    ref = ReferenceNumber.parse(text)
    assert (ref.code, ref.year, ref.serial) == (code, year, serial)
    assert ref == ReferenceNumber(code, year, serial)
    assert str(ref) == text


def test_format_uses_hexagonal_brackets() -> None:
    text = str(ReferenceNumber("汴打假", 2022, 3))
    assert text == "汴打假\u30142022\u30153号"
    assert "第" not in text


# -- look-alike brackets ----------------------------------------------------------

LEFT_LOOKALIKES = ["[", "(", "（", "〈", "【", "［", "﹝"]
RIGHT_LOOKALIKES = ["]", ")", "）", "〉", "】", "］", "﹞"]


@pytest.mark.parametrize("char", LEFT_LOOKALIKES)
def test_lookalike_left_bracket_is_named(char: str) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse(f"汴打假{char}2022〕3号")
    assert info.value.field == "ref"
    assert f"「{char}」" in info.value.message
    assert "六角括号" in info.value.message


@pytest.mark.parametrize("char", RIGHT_LOOKALIKES)
def test_lookalike_right_bracket_is_named(char: str) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse(f"汴打假〔2022{char}3号")
    assert info.value.field == "ref"
    assert f"「{char}」" in info.value.message


@pytest.mark.parametrize(("left", "right"), list(zip(LEFT_LOOKALIKES, RIGHT_LOOKALIKES, strict=True)))
def test_lookalike_pair_names_the_first_wrong_character(left: str, right: str) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse(f"汴打假{left}2022{right}3号")
    assert f"「{left}」" in info.value.message
    assert f"「{right}」" not in info.value.message


@pytest.mark.parametrize("text", ["汴打假\u30182022\u30193号"])
def test_tortoise_shell_lookalike_is_named(text: str) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse(text)
    assert "「\u3018」" in info.value.message


# -- other bad forms --------------------------------------------------------------

BAD = [
    # text, substrings the message must contain
    ("汴打假〔2022〕第3号", ["「第」"]),
    ("第汴打假〔2022〕3号", ["「第」"]),
    ("汴打假〔2022〕03号", ["「03」", "前导零"]),
    ("汴打假〔2022〕007号", ["「007」", "前导零"]),
    ("汴打假〔2022〕0号", ["「0」"]),
    ("汴打假〔2022〕3", ["应以「号」结尾"]),
    ("汴打假〔2022〕3号 ", ["应以「号」结尾"]),
    ("汴打假〔2022〕", ["应以「号」结尾"]),
    ("汴打假〔22〕3号", ["年份「22」", "四位"]),
    ("汴打假〔20222〕3号", ["年份「20222」", "四位"]),
    ("汴打假〔〕3号", ["年份「」"]),
    ("汴打假〔二〇二二〕3号", ["年份「二〇二二」"]),
    ("汴打假〔0999〕3号", ["999", "四位"]),
    ("汴打假〔2022〕３号", ["「３」", "阿拉伯数字"]),
    ("汴打假〔2022〕三号", ["「三」", "阿拉伯数字"]),
    ("汴打假字〔2022〕3号", ["汴打假字", "「字」"]),
    ("汴 打假〔2022〕3号", ["机关代字「汴 打假」"]),
    ("汴打假-〔2022〕3号", ["机关代字「汴打假-」"]),
    ("〔2022〕3号", ["代字"]),
    ("汴打假2022年3号", ["缺少六角括号"]),
    ("汴打假〔2022〔3号", ["缺少六角括号"]),
    ("", ["不能为空"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_bad_forms_raise_naming_the_problem(text: str, expected: list[str]) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse(text)
    assert info.value.field == "ref"
    assert info.value.exit_code == 2
    for part in expected:
        assert part in info.value.message, (part, info.value.message)


@pytest.mark.parametrize("value", [None, 2022, b"\xe6\xb1\xb4"])
def test_non_text_is_rejected(value: object) -> None:
    with pytest.raises(InputError, match="不能为空"):
        ReferenceNumber.parse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text", ["汴打假[2022]3号", "汴打假〔2022〕03号", "汴打假字〔2022〕3号", "", "汴打假〔0999〕3号"]
)
def test_parse_reports_the_callers_field(text: str) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse(text, field="documents[2].ref")
    assert info.value.field == "documents[2].ref"


@pytest.mark.parametrize(
    "text",
    [
        "汴打假〔２０２２〕3号",  # full-width year
        "汴打假〔٢٠٢٢〕3号",  # Arabic-Indic year
        "汴打假〔2022〕3３号",  # full-width second digit of the serial
    ],
)
def test_non_ascii_digits_are_rejected(text: str) -> None:
    with pytest.raises(InputError):
        ReferenceNumber.parse(text)


# -- the constructor --------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "year", "serial", "expected"),
    [
        ("", 2022, 1, "机关代字「」"),
        ("汴打假字", 2022, 1, "后不加「字」"),
        ("汴〔打假", 2022, 1, "只能由汉字、字母和数字组成"),
        ("汴打假", 999, 1, "年份「999」"),
        ("汴打假", 10000, 1, "年份「10000」"),
        ("汴打假", 2022, 0, "发文顺序号「0」"),
        ("汴打假", 2022, -3, "发文顺序号「-3」"),
    ],
)
def test_constructor_rejects_invalid_parts(code: str, year: int, serial: int, expected: str) -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber(code, year, serial)
    assert expected in info.value.message
    assert info.value.field == "ref"


def test_numbers_order_by_code_year_serial() -> None:
    refs = [
        ReferenceNumber("汴打假", 2022, 10),
        ReferenceNumber("汴打假", 2021, 99),
        ReferenceNumber("汴打假", 2022, 3),
    ]
    assert [r.serial for r in sorted(refs)] == [99, 3, 10]


def test_input_error_survives_pickling() -> None:
    with pytest.raises(InputError) as info:
        ReferenceNumber.parse("汴打假[2022]3号")
    copy = pickle.loads(pickle.dumps(info.value))
    assert type(copy) is InputError and isinstance(copy, GongwenError)
    assert (copy.message, copy.field) == (info.value.message, info.value.field)
    assert str(copy) == f"ref：{info.value.message}"


# -- round trip -------------------------------------------------------------------

_CODE_CHARS = (
    "汴打假办发豫政国京沪粤津冀晋辽吉黑苏浙皖闽赣鲁鄂湘桂琼渝川贵云藏陕甘青宁新港澳函电令" + "ABCXYZabcxyz0123456789"
)


def _random_numbers(count: int) -> list[ReferenceNumber]:
    rng = random.Random(20220429)
    numbers = []
    for _ in range(count):
        code = "".join(rng.choice(_CODE_CHARS) for _ in range(rng.randint(1, 8)))
        year = rng.randint(1000, 9999)
        serial = rng.choice([rng.randint(1, 9), rng.randint(10, 999), rng.randint(1, 10**12)])
        numbers.append(ReferenceNumber(code, year, serial))
    return numbers


def test_parse_of_str_round_trips() -> None:
    numbers = _random_numbers(3000)
    assert len({str(n) for n in numbers}) > 2900  # genuinely varied
    for number in numbers:
        text = str(number)
        assert ReferenceNumber.parse(text) == number, text
        assert str(ReferenceNumber.parse(text)) == text


def test_code_containing_di_is_rejected_so_every_number_round_trips() -> None:
    with pytest.raises(InputError, match="第"):
        ReferenceNumber("第一办", 2022, 1)
