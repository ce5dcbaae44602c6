"""The hostile-input corpus: its catalogue, the files each case builds, and proof that nothing was written.

A case (tests/reliability/hostile/*.yaml) starts from the seed files in examples/kaifeng — the notice for
a spec case, the directory for a directory case — and changes their data (``set``, ``delete``,
``append``) or their text (``replace`` one passage, ``append_text`` lines at the end), or gives the whole file: ``text`` (as written), ``file`` (raw bytes under hostile/files/) or ``generate``
(a file too big to keep, built by one of ``GENERATORS``). It expects either a refusal naming ``field``
(exit 2), or, with ``outcome: literal``, a rendered .docx that shows ``shows`` as written.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, MetaData, create_engine, select
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "kaifeng"
CORPUS = Path(__file__).resolve().parent / "hostile"
BASES = {"spec": EXAMPLE / "notice.yaml", "directory": EXAMPLE / "directory.yaml"}
SPEC_COMMANDS = ("draft", "render", "revise")


@dataclass(frozen=True)
class Case:
    """One hostile input and what gongwen must do with it."""

    id: str
    target: str
    field: str | None
    commands: tuple[str, ...]
    outcome: str = "refused"
    reason: str | None = None
    shows: str | None = None
    edits: dict[str, Any] = field(default_factory=dict, compare=False)

    def content(self) -> bytes:
        """The file the user would give gongwen."""
        if "text" in self.edits:
            return self.edits["text"].encode("utf-8")
        if "file" in self.edits:
            return (CORPUS / "files" / self.edits["file"]).read_bytes()
        if "generate" in self.edits:
            return GENERATORS[self.edits["generate"]]()
        if "replace" in self.edits or "append_text" in self.edits:
            text = BASES[self.target].read_text(encoding="utf-8")
            for old, new in self.edits.get("replace", {}).items():
                assert text.count(old) == 1, f"{self.id}: 「{old}」 is not once in {BASES[self.target].name}"
                text = text.replace(old, new)
            return (text + self.edits.get("append_text", "")).encode("utf-8")
        data = copy.deepcopy(_base(self.target))
        for path in self.edits.get("delete", ()):
            parent, key = _locate(data, path)
            del parent[key]
        for path, value in self.edits.get("set", {}).items():
            parent, key = _locate(data, path)
            parent[key] = _expand(value)
        for path, value in self.edits.get("append", {}).items():
            parent, key = _locate(data, path)
            parent[key].append(_expand(value))
        return _dump(data)


def _dump(data: Any) -> bytes:
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False).encode("utf-8")


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_cases(name: str, target: str) -> list[Case]:
    """The cases of one catalogue file (hostile/<name>.yaml)."""
    entries = yaml.safe_load((CORPUS / f"{name}.yaml").read_text(encoding="utf-8"))
    cases = []
    for entry in entries:
        edits = {key: entry[key] for key in _EDITS if key in entry}
        default = SPEC_COMMANDS if target == "spec" else ("org load",)
        cases.append(
            Case(
                id=entry["id"],
                target=target,
                field=entry.get("field"),
                commands=tuple(entry.get("commands", default)),
                outcome=entry.get("outcome", "refused"),
                reason=entry.get("reason"),
                shows=entry.get("shows"),
                edits=edits,
            )
        )
    return cases


_EDITS = ("set", "delete", "append", "replace", "append_text", "text", "file", "generate")
_BASE_CACHE: dict[str, Any] = {}


def _base(target: str) -> Any:
    if target not in _BASE_CACHE:
        _BASE_CACHE[target] = yaml.safe_load(BASES[target].read_text(encoding="utf-8"))
    return _BASE_CACHE[target]


_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _locate(data: Any, path: str) -> tuple[Any, Any]:
    """The container holding ``path`` (``people[0].email``) and the last key or index."""
    steps = [name if name else int(index) for name, index in _STEP.findall(path)]
    for step in steps[:-1]:
        data = data[step]
    return data, steps[-1]


def _expand(value: Any) -> Any:
    """``{repeat: TEXT, times: N}`` → TEXT × N; ``{items: VALUE, times: N}`` → a list of N VALUEs."""
    if isinstance(value, dict) and set(value) == {"repeat", "times"}:
        return value["repeat"] * value["times"]
    if isinstance(value, dict) and set(value) == {"items", "times"}:
        return [value["items"]] * value["times"]
    return value


def _ten_megabytes() -> bytes:
    """A spec that is valid YAML but 10 MB long (a body far beyond any 公文)."""
    head = (EXAMPLE / "notice.yaml").read_bytes()
    return head + b"\nnote: |\n" + b"  " + "很长的附注".encode() * (10 * 1024 * 1024 // 15) + b"\n"


def _billion_laughs() -> bytes:
    """Nine levels of aliases, each ten of the one before: 10⁹ strings once expanded."""
    lines = ['doc_type: "通知"', 'l0: &l0 ["哈哈"]']
    for level in range(1, 10):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    lines.append("to: *l9")
    return "\n".join(lines).encode()


def _deep_lists() -> bytes:
    """A title nested 100 000 lists deep."""
    return b"doc_type: \xe9\x80\x9a\xe7\x9f\xa5\ntitle: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"


def _deep_mappings() -> bytes:
    """An approval nested 20 000 mappings deep."""
    return b"approval: " + b"{a: " * 20_000 + b"1" + b"}" * 20_000 + b"\n"


def _many_recipients() -> bytes:
    """主送 with 100 000 entries."""
    data = copy.deepcopy(_base("spec"))
    data["to"] = ["市公安局"] * 100_000
    return _dump(data)


def _many_people() -> bytes:
    """A directory with 10 001 people, one over the limit."""
    data = copy.deepcopy(_base("directory"))
    data["people"] = [{"name": f"人员{i}", "agency": "开封海关", "pin": "123456"} for i in range(10_001)]
    return _dump(data)


def _deep_directory() -> bytes:
    """Agencies nested 2 000 lists deep."""
    return b"agencies: " + b"[" * 2_000 + b"]" * 2_000 + b"\n"


def _directory_bomb() -> bytes:
    """A directory whose groups' members are a billion-laughs alias tree."""
    lines = ['m0: &m0 ["开封海关"]']
    for level in range(1, 10):
        lines.append(f"m{level}: &m{level} [{', '.join([f'*m{level - 1}'] * 10)}]")
    lines.append("groups: [{name: 组, members: *m9}]")
    return "\n".join(lines).encode()


GENERATORS = {
    "ten_megabytes": _ten_megabytes,
    "billion_laughs": _billion_laughs,
    "deep_lists": _deep_lists,
    "deep_mappings": _deep_mappings,
    "many_recipients": _many_recipients,
    "many_people": _many_people,
    "deep_directory": _deep_directory,
    "directory_bomb": _directory_bomb,
}


# -- nothing written ------------------------------------------------------------------------------


@functools.cache
def _reflected(url: str) -> tuple[Engine, MetaData]:
    """The database's engine (no pooled connection left open) and its tables, read once."""
    engine = create_engine(url, poolclass=NullPool)
    metadata = MetaData()
    metadata.reflect(engine)
    return engine, metadata


def database_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table (documents, audit events, counters, deliveries, the directory…)."""
    if url.startswith("sqlite:///"):  # read-only, without SQLAlchemy: this runs twice for each case
        with contextlib.closing(sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)) as db:
            names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {name: sorted(db.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
    engine, metadata = _reflected(url)
    with engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for name, table in metadata.tables.items()
        }


def folder_files(*folders: Path) -> dict[str, tuple[int, int]]:
    """Path → (size, modification time in ns) of every file and folder under the folders (the home: archive,
    outbox, issued copies…), but SQLite's own files: a reader may checkpoint the write-ahead log into them,
    and their rows are compared instead."""
    found: dict[str, tuple[int, int]] = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if not path.name.startswith("gongwen.db"):
                status = path.stat()
                found[str(path)] = (status.st_size, status.st_mtime_ns)
    return found
