"""发文字号 (reference number) — GB/T 9704-2012 §7.2.5.

The form is 机关代字 + 年份 in 六角括号 〔〕 (U+3014/U+3015) + 发文顺序号 + 号,
e.g. ``汴打假〔2022〕3号``. The year is four digits; the serial carries no 第, no
leading zeros and no 字 after the code. ``parse`` is strict and says which
character is wrong; ``parse(str(x)) == x`` for every valid number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.errors import InputError

LEFT, RIGHT = "\u3014", "\u3015"  # 〔 〕

#: Brackets people type instead of 六角括号, each with the one it stands for.
LOOKALIKES: dict[str, str] = {
    **dict.fromkeys("[(（〈【［《﹝〖〘｛{<＜「『", LEFT),
    **dict.fromkeys("])）〉】］》﹞〗〙｝}>＞」』", RIGHT),
}

_CODE = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]+$")
_FORM = re.compile(rf"^(?P<code>[^{LEFT}{RIGHT}]+){LEFT}(?P<year>[0-9]{{4}}){RIGHT}(?P<serial>[1-9][0-9]*)号$")
_FIELD = "ref"


@dataclass(frozen=True, order=True)
class ReferenceNumber:
    """A 发文字号: 机关代字, 年份 and 发文顺序号."""

    code: str
    year: int
    serial: int

    def __post_init__(self) -> None:
        check_code(self.code)
        if not 1000 <= self.year <= 9999:
            raise InputError(f"年份「{self.year}」应为四位数字", _FIELD)
        if self.serial < 1:
            raise InputError(f"发文顺序号「{self.serial}」应从 1 开始", _FIELD)

    def __str__(self) -> str:
        return f"{self.code}{LEFT}{self.year}{RIGHT}{self.serial}号"

    @classmethod
    def parse(cls, text: str, field: str = _FIELD) -> ReferenceNumber:
        """Parse a 发文字号 strictly; the error names the wrong character."""
        if not isinstance(text, str) or not text:
            raise InputError("发文字号不能为空", field)
        for char in text:
            if char in LOOKALIKES:
                raise InputError(f"「{char}」不是六角括号，年份应写在「{LEFT}{RIGHT}」(U+3014/U+3015) 中", field)
        if "第" in text:
            raise InputError("发文顺序号前不加「第」", field)
        match = _FORM.match(text)
        if match is None:
            raise InputError(_explain(text), field)
        code = match["code"]
        try:
            return cls(code, int(match["year"]), int(match["serial"]))
        except InputError as error:
            raise InputError(error.message, field) from None


def check_code(code: str) -> None:
    """机关代字: letters of the agency's short name, without a trailing 字."""
    if not code or not _CODE.match(code):
        raise InputError(f"机关代字「{code}」只能由汉字、字母和数字组成", _FIELD)
    if "第" in code:
        raise InputError(f"机关代字「{code}」中不能有「第」", _FIELD)
    if code.endswith("字"):
        raise InputError(f"机关代字「{code}」后不加「字」", _FIELD)


def _explain(text: str) -> str:
    """Say what is wrong with a text that has no look-alike bracket and no 第."""
    if LEFT not in text or RIGHT not in text:
        return f"「{text}」缺少六角括号「{LEFT}{RIGHT}」"
    year = text[text.index(LEFT) + 1 : text.index(RIGHT)] if text.index(LEFT) < text.index(RIGHT) else ""
    if not re.fullmatch(r"[0-9]{4}", year):
        return f"年份「{year}」应为四位阿拉伯数字"
    tail = text[text.index(RIGHT) + 1 :]
    if not tail.endswith("号"):
        return f"「{text}」应以「号」结尾"
    serial = tail.removesuffix("号")
    if serial.startswith("0"):
        return f"发文顺序号「{serial}」不编虚位（不加前导零）"
    if not serial.isascii() or not serial.isdigit():
        return f"发文顺序号「{serial}」应为阿拉伯数字"
    return f"「{text}」不是「代字〔年份〕序号号」的形式"
