"""Turning raw input into clean data, and pydantic's complaints into InputError.

- ``strip_control_characters``: 条例-ready text keeps line breaks only; every other
  character in U+0000–U+001F (and U+007F) is removed, and each field that lost
  any is reported as a warning (they would break the layout of a printed 公文).
- ``input_error``: the first pydantic error as an InputError whose field is the
  dotted path (``attachments[0].title``) and whose reason is in Chinese.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from models.errors import InputError

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def strip_control_characters(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Remove control characters (all but \\n) from every string inside ``value``."""
    warnings: list[str] = []

    def clean(item: Any, where: str) -> Any:
        if isinstance(item, str):
            cleaned, count = _CONTROL.subn("", item.replace("\r\n", "\n"))
            if count:
                warnings.append(f"{where or '（根）'}：已删除 {count} 个控制字符")
            return cleaned
        if isinstance(item, dict):
            return {key: clean(val, join_path(where, key)) for key, val in item.items()}
        if isinstance(item, list):
            return [clean(val, f"{where}[{i}]") for i, val in enumerate(item)]
        return item

    return clean(value, path), warnings


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
