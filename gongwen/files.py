"""Files on the user's side: reading the YAML people write (with clear errors), writing copies out.

``read_yaml`` refuses, naming the argument (or the key): a missing, oversized or non-UTF-8 file;
malformed YAML, several documents in one file, characters YAML does not allow; a key written twice
(YAML would silently keep the last); nesting deeper than ``MAX_DEPTH``; aliases that expand to more
than ``MAX_NODES`` values (the "billion laughs"), or that contain themselves. An impossible date
(2022-02-30) stays text, for the spec's own check to name the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node, ScalarNode, SequenceNode

from models.errors import InputError
from models.validation import join_path

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 50
MAX_NODES = 1_000_000


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's safe loader (on libyaml where installed: ten times faster, nesting capped at 1000), except
    that a date that does not exist is left as text, and that a value its tag cannot make (``!!int abc``,
    ``0x_``, ``!!bool maybe``) is a YAML error at its line, not a crash."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, KeyError, AttributeError, TypeError, OverflowError):
            tag = node.tag.removeprefix("tag:yaml.org,2002:")
            raise yaml.constructor.ConstructorError(
                None, None, f"「{node.value}」不是有效的 {tag} 值", node.start_mark
            ) from None

    def construct_yaml_timestamp(self, node: Node) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(path: Path, field: str) -> Any:
    """Parse a YAML file; missing, oversized, non-UTF-8, malformed or explosive files are InputErrors."""
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_BYTES + 1)  # a device such as /dev/zero never ends
    except OSError as exc:
        raise InputError(f"无法读取文件「{path}」：{exc.strerror}", field) from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"文件过大（超过 {MAX_BYTES} 字节）", field)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"文件不是 UTF-8 编码（第 {exc.start} 字节）", field) from None
    try:
        return _load(text, field)
    except yaml.reader.ReaderError as exc:
        raise InputError(
            f"文件含 YAML 不允许的字符 #x{exc.character:04x}（第 {exc.position + 1} 个字符）", field
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第 {mark.line + 1} 行第 {mark.column + 1} 列" if mark else ""
        problem = getattr(exc, "problem", None) or "格式错误"
        if "nesting depth" in problem:
            raise InputError(f"嵌套过深（最多 {MAX_DEPTH} 层）", field) from None
        raise InputError(f"YAML 格式错误{where}：{problem}", field) from None
    except RecursionError:
        raise InputError(f"嵌套过深（最多 {MAX_DEPTH} 层）", field) from None


def _load(text: str, field: str) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_shape(node, field)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_shape(root: Node, field: str) -> None:
    """No key twice in a mapping, at most MAX_DEPTH levels, at most MAX_NODES values once aliases are expanded.

    One pass over the distinct nodes (an alias is the node it names): each collection's expanded size is
    computed once, after its children's; a scalar counts one.
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, str, int, list[Node] | None]] = [(root, "", 1, None)]
    while stack:
        node, path, depth, children = stack.pop()
        if children is not None:
            open_nodes.discard(id(node))
            sizes[id(node)] = size = 1 + sum(sizes.get(id(child), 1) for child in children)
            if size > MAX_NODES:
                raise InputError(f"别名展开后超过 {MAX_NODES} 个值，拒绝读取", field)
        elif id(node) in open_nodes:
            raise InputError("别名引用了包含它自身的内容", field)
        elif id(node) not in sizes and not isinstance(node, ScalarNode):
            if depth > MAX_DEPTH:
                raise InputError(f"嵌套过深（最多 {MAX_DEPTH} 层）", field)
            open_nodes.add(id(node))
            nested = _collections(node, path)
            stack.append((node, path, depth, [child for child, _ in nested] + _scalars(node)))
            stack.extend((child, child_path, depth + 1, None) for child, child_path in nested)


def _scalars(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return [child for child in node.value if isinstance(child, ScalarNode)]
    return [child for pair in node.value for child in pair if isinstance(child, ScalarNode)]


def _collections(node: Node, path: str) -> list[tuple[Node, str]]:
    """The lists and mappings in a collection, with their field paths; InputError for a key written twice."""
    if isinstance(node, SequenceNode):
        return [(child, f"{path}[{i}]") for i, child in enumerate(node.value) if not isinstance(child, ScalarNode)]
    found: list[tuple[Node, str]] = []
    seen: set[tuple[str, str]] = set()
    for key, value in node.value:
        if isinstance(key, ScalarNode):
            if (key.tag, key.value) in seen:
                raise InputError(
                    f"键「{key.value}」重复（第 {key.start_mark.line + 1} 行）", join_path(path, key.value)
                )
            seen.add((key.tag, key.value))
        else:
            found.append((key, path))
        if not isinstance(value, ScalarNode):
            found.append((value, join_path(path, key.value if isinstance(key, ScalarNode) else "?")))
    return found


def write_files(folder: Path, files: dict[str, bytes]) -> list[Path]:
    """Copies of printed files for the person at the terminal (the originals stay in the database)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in sorted(files.items()):
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths
