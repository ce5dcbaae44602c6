"""The 审计日志 hash chain: each entry seals its content and the entry before it.

An entry's hash is SHA-256 over its canonical JSON (sorted keys, no spaces,
UTF-8) which includes ``prev_hash``, the hash of the entry before it (64 zeros
for the first). Changing, inserting or deleting any entry breaks the chain at
that entry or the one after it; removing entries at the end is caught by
comparing the last hash with the chain head kept beside it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no insignificant spaces, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ChainEntry:
    """The sealed fields of one audit entry."""

    id: int
    at: str
    actor: str
    action: str
    document_id: int | None
    detail: str  # canonical JSON of the details
    prev_hash: str
    hash: str = ""

    def sealed(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "document_id": self.document_id,
            "detail": self.detail,
            "prev_hash": self.prev_hash,
        }


def entry_hash(entry: ChainEntry) -> str:
    return hashlib.sha256(canonical_json(entry.sealed()).encode()).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """Outcome of a chain check: ok, or the first broken entry and why."""

    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def verify_chain(entries: Iterable[ChainEntry], head_hash: str | None) -> ChainReport:
    """Walk the entries in id order and name the first one that breaks the chain."""
    previous = GENESIS
    count = 0
    last_id = None
    for entry in entries:
        count += 1
        if entry.prev_hash != previous:
            return ChainReport(
                False, count, entry.id, f"审计记录 #{entry.id} 的前序哈希与上一条不符（前一条被改动或删除）"
            )
        if entry_hash(entry) != entry.hash:
            return ChainReport(False, count, entry.id, f"审计记录 #{entry.id} 的内容与其哈希不符（记录被改动）")
        previous = entry.hash
        last_id = entry.id
    if (head_hash or GENESIS) != previous:
        return ChainReport(False, count, last_id, "审计链末端与链头记录不符（末尾记录被删除或链头被改动）")
    return ChainReport(True, count)
