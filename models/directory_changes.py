"""机构目录变更: what one load of the directory changed, for its 审计日志 entry (``directory_loaded``).

Per section — agencies, people, groups (by name), 保管期限 (by 文种, ``default`` for the rest) and
发文计数器 (by ``代字/年份``) — each entry added, removed or changed, with the names of the fields
that differ. A secret field (models.directory.SECRET_FIELDS: the PIN's hash) is named with the
SHA-256 of its old and new stored value, never the value: a PIN swapped and swapped back shows as
two changes whose digests differ, and nobody reading the audit log learns a hash to attack.
"""

from __future__ import annotations

import hashlib
from typing import Any

from models.directory import SECRET_FIELDS, Directory

Entries = dict[str, dict[str, Any]]


def directory_changes(old: Directory, new: Directory) -> dict[str, Entries]:
    """Every section's changed entries, from the directory ``old`` to ``new`` (both as stored)."""
    return {section: _changes(entries(old), entries(new)) for section, entries in _SECTIONS.items()}


def _agencies(directory: Directory) -> dict[str, dict[str, Any]]:
    return {a.name: a.model_dump(mode="json", exclude_defaults=True) for a in directory.agencies}


def _people(directory: Directory) -> dict[str, dict[str, Any]]:
    return {p.name: p.model_dump(mode="json", exclude_defaults=True) for p in directory.people}


def _groups(directory: Directory) -> dict[str, dict[str, Any]]:
    return {g.name: g.model_dump(mode="json") for g in directory.groups}


def _retention(directory: Directory) -> dict[str, dict[str, Any]]:
    rules = directory.retention
    terms = {"default": rules.default.value} | {k.value: v.value for k, v in rules.by_doc_type.items()}
    return {doc_type: {"retention": term} for doc_type, term in terms.items()}


def _counters(directory: Directory) -> dict[str, dict[str, Any]]:
    return {f"{c.code}/{c.year}": {"last": c.last} for c in directory.counters}


_SECTIONS = {
    "agencies": _agencies,
    "people": _people,
    "groups": _groups,
    "retention": _retention,
    "counters": _counters,
}


def _changes(old: Entries, new: Entries) -> Entries:
    changed = {}
    for name in sorted(old.keys() | new.keys()):
        before, after = old.get(name, {}), new.get(name, {})
        fields = sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))
        if not fields:
            continue
        change = "added" if name not in old else "removed" if name not in new else "changed"
        entry: dict[str, Any] = {"change": change, "fields": fields}
        secrets = {
            key: {"old_sha256": _digest(before.get(key)), "new_sha256": _digest(after.get(key))}
            for key in fields
            if key in SECRET_FIELDS
        }
        if secrets:
            entry["secrets"] = secrets
        changed[name] = entry
    return changed


def _digest(value: str | None) -> str | None:
    return hashlib.sha256(value.encode()).hexdigest() if value else None
