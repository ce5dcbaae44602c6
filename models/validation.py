"""Turning raw input into clean data, and pydantic's complaints into InputError.

- ``clean_text``: the text of a 公文 is what is printed, so characters that change or hide what
  is printed are refused, naming the field: C0 and C1 control characters (all but line breaks and
  tabs), bidirectional overrides and isolates, zero-width and other invisible format characters,
  line and paragraph separators, surrogates and noncharacters. Line breaks become ``\\n``; tabs
  are removed, each field that lost any reported as a warning. Keys must be text, and values plain
  data (no ``!!binary`` bytes, no sets).
- ``input_error``: the first pydantic error as an InputError whose field is the
  dotted path (``attachments[0].title``) and whose reason is in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from pydantic import ValidationError

from models.errors import InputError

#: Characters refused in any text: Unicode's Cc (but \n and \t), Cf, Zl, Zp and Cs, and the noncharacters.
REFUSED_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufdd0-\ufdef\ufeff"
    "\ufff9-\ufffb\ufffe\uffff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    + "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(1, 17))
    + "]"
)
_PLAIN = (str, int, float, bool, type(None), dt.date, list, dict)


def clean_text(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """``value`` with CRLF as LF and tabs removed, and the warnings; InputError for any refused character."""
    warnings: list[str] = []

    def clean(item: Any, where: str) -> Any:
        if isinstance(item, str):
            _check_characters(item, where)
            text = item.replace("\r\n", "\n")
            if "\r" in text:
                raise InputError("含控制字符 U+000D（单独的回车符），公文中不能出现", where or "（根）")
            if "\t" in text:
                warnings.append(f"{where or '（根）'}：已删除 {text.count(chr(9))} 个制表符")
                text = text.replace("\t", "")
            return text
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str):
                    raise InputError("键应为文本", join_path(where, _key_text(key)))
                _check_characters(key, join_path(where, _escaped(key)), "键名")
            return {key: clean(val, join_path(where, key)) for key, val in item.items()}
        if isinstance(item, list):
            return [clean(val, f"{where}[{i}]") for i, val in enumerate(item)]
        if not isinstance(item, _PLAIN):
            kind = "二进制数据（!!binary）" if isinstance(item, bytes) else f"「{type(item).__name__}」"
            raise InputError(f"不支持{kind}，应为文本、数字、日期、列表或映射", where or "（根）")
        return item

    return clean(value, path), warnings


def _check_characters(text: str, where: str, what: str = "") -> None:
    found = REFUSED_CHARACTERS.search(text)
    if found is not None:
        char = found.group()
        name = unicodedata.name(char, "") or {"Cs": "代理码位", "Cn": "非字符"}.get(unicodedata.category(char), "")
        raise InputError(
            f"{what}含控制字符 U+{ord(char):04X}（{name}，第 {found.start() + 1} 个字符），公文中不能出现",
            where or "（根）",
        )


def _key_text(key: Any) -> str:
    """A non-text key as it was written: null, true, 1, 2022-04-29."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return str(key).lower()
    return str(key)


def _escaped(text: str) -> str:
    """A key for a field path, its refused characters escaped (``title\\x00``)."""
    return REFUSED_CHARACTERS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def join_path(prefix: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def field_path(loc: tuple[Any, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        path = join_path(path, part)
    return path or "（根）"


_REASONS = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_parsing": "应为数字",
    "list_type": "应为列表",
    "dict_type": "应为映射（键: 值）",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "date_type": "应为日期 YYYY-MM-DD",
    "bool_type": "应为 true 或 false",
    "string_pattern_mismatch": "格式不正确",
}


def _reason(error: dict[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _REASONS:
        return _REASONS[kind]
    if kind == "enum":
        return f"应为以下之一：{ctx.get('expected', '')}".replace("'", "")
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"至少 {ctx.get('min_length')} 个字符"
    if kind == "string_too_long":
        return f"过长，最多 {ctx.get('max_length')} 个字符"
    if kind == "too_short":
        return f"至少需要 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()), "")
        sign = {"greater_than_equal": "≥", "less_than_equal": "≤", "greater_than": ">", "less_than": "<"}[kind]
        return f"应 {sign} {bound}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def input_error(exc: ValidationError, prefix: str = "") -> InputError:
    """The first error of a pydantic validation as an InputError naming the field."""
    first = exc.errors(include_url=False)[0]
    # pydantic names the branch of a union in the location ("function-before[…]"); keys never hold "["
    loc = tuple(part for part in first["loc"] if not (isinstance(part, str) and "[" in part))
    return InputError(_reason(first), field_path(loc, prefix))
