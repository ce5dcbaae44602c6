"""Files on the user's side: reading the YAML people write (with clear errors), writing copies out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from models.errors import InputError

MAX_BYTES = 5 * 1024 * 1024


def read_yaml(path: Path, field: str) -> Any:
    """Parse a YAML file; missing, oversized, non-UTF-8 or malformed files are InputErrors."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"无法读取文件「{path}」：{exc.strerror}", field) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"文件过大（{len(raw)} 字节，最多 {MAX_BYTES}）", field)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"文件不是 UTF-8 编码（第 {exc.start} 字节）", field) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        problem = getattr(exc, "problem", None) or "格式错误"
        raise InputError(f"YAML 格式错误{where}：{problem}", field) from None


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Copies of printed files for the person at the terminal (the originals stay in the database)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in sorted(files.items()):
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths
