"""Reading the YAML people write: what is refused (naming the argument or the key) and what is kept."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gongwen.files import MAX_DEPTH, read_yaml
from models.errors import InputError


def _read(tmp_path: Path, content: str | bytes) -> object:
    path = tmp_path / "input.yaml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return read_yaml(path, "SPEC")


def _refused(tmp_path: Path, content: str | bytes) -> InputError:
    with pytest.raises(InputError) as info:
        _read(tmp_path, content)
    return info.value


@pytest.mark.parametrize(
    ("content", "field"),
    [
        ("title: 甲\ntitle: 乙\n", "title"),
        ("approval:\n  sign: 甲\n  sign: 乙\n", "approval.sign"),
        ("attachments:\n  - title: 甲\n    body: 正文\n  - title: 乙\n    title: 丙\n", "attachments[1].title"),
    ],
)
def test_a_key_written_twice_is_named(tmp_path: Path, content: str, field: str) -> None:
    error = _refused(tmp_path, content)
    assert error.field == field and "重复" in error.message


def test_an_impossible_date_stays_text_for_the_spec_to_name(tmp_path: Path) -> None:
    assert _read(tmp_path, "date: 2022-02-30\nprint_date: 0000-01-01\n") == {
        "date": "2022-02-30",
        "print_date": "0000-01-01",
    }


def test_aliases_that_explode_are_refused_quickly(tmp_path: Path) -> None:
    lines = ["l0: &l0 [哈]"] + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 10)]
    started = time.perf_counter()
    error = _refused(tmp_path, "\n".join(lines))
    assert time.perf_counter() - started < 1
    assert error.field == "SPEC" and error.message.startswith("别名展开后超过")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    assert _read(tmp_path, "a: &x [甲, 乙]\nb: *x\n") == {"a": ["甲", "乙"], "b": ["甲", "乙"]}


def test_an_alias_inside_itself_is_refused(tmp_path: Path) -> None:
    assert "自身" in _refused(tmp_path, "a: &a [1, *a]\n").message


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5_000, 100_000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    error = _refused(tmp_path, "a: " + "[" * depth + "]" * depth)
    assert error.field == "SPEC" and "嵌套过深" in error.message


def test_characters_yaml_does_not_allow_are_named(tmp_path: Path) -> None:
    error = _refused(tmp_path, "title: 关于\x07通知\n")
    assert error.field == "SPEC" and "#x0007" in error.message


@pytest.mark.parametrize(
    ("content", "part"),
    [("title: 关于".encode("gbk"), "UTF-8"), ("title: 关于".encode("utf-16"), "UTF-8"), (b"a: [1,", "YAML")],
)
def test_bytes_and_syntax_that_are_not_yaml_in_utf8(tmp_path: Path, content: bytes, part: str) -> None:
    error = _refused(tmp_path, content)
    assert error.field == "SPEC" and part in error.message


@pytest.mark.parametrize(
    ("content", "value"),
    [("a: !!int abc\n", "「abc」不是有效的 int 值"), ("a: [!!bool maybe]\n", "「maybe」"), ("a: 0x_\n", "「0x_」")],
)
def test_a_value_its_tag_cannot_make_is_a_yaml_error(tmp_path: Path, content: str, value: str) -> None:
    error = _refused(tmp_path, content)
    assert error.field == "SPEC" and "第 1 行" in error.message and value in error.message


def test_a_device_that_never_ends_is_too_big() -> None:
    with pytest.raises(InputError, match="文件过大"):
        read_yaml(Path("/dev/zero"), "SPEC")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    assert _read(tmp_path, "\ufeffdoc_type: 通知\n".encode()) == {"doc_type": "通知"}


def test_empty_file_is_none(tmp_path: Path) -> None:
    assert _read(tmp_path, "# 空\n") is None
