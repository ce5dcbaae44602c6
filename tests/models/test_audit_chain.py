"""The audit hash chain: a good chain verifies; each kind of tampering names the entry."""

from __future__ import annotations

import dataclasses
import hashlib
import json

import pytest

from models.audit_chain import GENESIS, ChainEntry, canonical_json, entry_hash, verify_chain

N = 6


def _chain(n: int = N) -> list[ChainEntry]:
    entries: list[ChainEntry] = []
    previous = GENESIS
    for i in range(1, n + 1):
        entry = ChainEntry(
            id=i,
            at=f"2022-04-29T0{i % 10}:00:00+08:00",
            actor=["郭佳佳", "李红梅", "陈立新"][i % 3],
            action=["draft", "submit", "approve", "register"][i % 4],
            document_id=None if i == 1 else 7,
            detail=canonical_json({"step": "核稿", "n": i}),
            prev_hash=previous,
        )
        entry = dataclasses.replace(entry, hash=entry_hash(entry))
        entries.append(entry)
        previous = entry.hash
    return entries


def _rehash(entry: ChainEntry, **changes: object) -> ChainEntry:
    changed = dataclasses.replace(entry, **changes)
    return dataclasses.replace(changed, hash=entry_hash(changed))


def test_good_chain_verifies() -> None:
    entries = _chain()
    report = verify_chain(entries, entries[-1].hash)
    assert (report.ok, report.checked, report.broken_id, report.reason) == (True, N, None, "")


def test_empty_chain_verifies() -> None:
    assert verify_chain([], None).ok
    assert verify_chain([], GENESIS).ok
    report = verify_chain([], "f" * 64)
    assert not report.ok and report.checked == 0


def test_entry_hash_is_sha256_of_canonical_json() -> None:
    entry = _chain(1)[0]
    expected = json.dumps(entry.sealed(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert canonical_json(entry.sealed()) == expected
    assert entry.hash == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert entry.prev_hash == GENESIS == "0" * 64
    assert "郭佳佳" in expected or "李红梅" in expected  # non-ASCII kept, not escaped


def test_every_entry_links_to_the_previous() -> None:
    entries = _chain()
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash


@pytest.mark.parametrize("k", range(1, N + 1))
@pytest.mark.parametrize(
    "change",
    [
        {"actor": "王五"},
        {"action": "archive"},
        {"at": "2023-01-01T00:00:00+08:00"},
        {"document_id": 8},
        {"detail": canonical_json({"step": "签发", "n": 0})},
    ],
)
def test_changing_a_field_names_that_entry(k: int, change: dict[str, object]) -> None:
    entries = _chain()
    entries[k - 1] = dataclasses.replace(entries[k - 1], **change)
    report = verify_chain(entries, _chain()[-1].hash)
    assert not report.ok
    assert report.broken_id == k
    assert report.checked == k
    assert f"#{k}" in report.reason and "改动" in report.reason


@pytest.mark.parametrize("k", range(1, N))
def test_changing_and_rehashing_an_entry_names_the_next(k: int) -> None:
    entries = _chain()
    entries[k - 1] = _rehash(entries[k - 1], actor="王五")
    report = verify_chain(entries, entries[-1].hash)
    assert not report.ok
    assert report.broken_id == k + 1
    assert f"#{k + 1}" in report.reason


def test_changing_and_rehashing_the_last_entry_breaks_the_head() -> None:
    entries = _chain()
    head = entries[-1].hash
    entries[-1] = _rehash(entries[-1], actor="王五")
    report = verify_chain(entries, head)
    assert not report.ok and report.broken_id == N


@pytest.mark.parametrize("k", range(1, N))
def test_deleting_an_entry_names_the_one_after_it(k: int) -> None:
    entries = _chain()
    head = entries[-1].hash
    del entries[k - 1]
    report = verify_chain(entries, head)
    assert not report.ok
    assert report.broken_id == k + 1
    assert "前序哈希" in report.reason


@pytest.mark.parametrize("k", range(1, N))
def test_swapping_two_entries_is_detected(k: int) -> None:
    entries = _chain()
    head = entries[-1].hash
    entries[k - 1], entries[k] = entries[k], entries[k - 1]
    report = verify_chain(entries, head)
    assert not report.ok
    assert report.broken_id == k + 1  # the later entry, now out of place at position k
    assert report.checked == k


@pytest.mark.parametrize("keep", range(1, N))
def test_truncating_the_tail_is_caught_by_the_head(keep: int) -> None:
    entries = _chain()
    head = entries[-1].hash
    report = verify_chain(entries[:keep], head)
    assert not report.ok
    assert report.broken_id == keep  # the last entry left
    assert report.checked == keep
    assert "链头" in report.reason


def test_wrong_head_with_intact_chain() -> None:
    entries = _chain()
    report = verify_chain(entries, entries[-2].hash)
    assert not report.ok and report.broken_id == N
    assert not verify_chain(entries, None).ok


def test_inserting_a_forged_entry_is_detected() -> None:
    entries = _chain()
    head = entries[-1].hash
    forged = _rehash(entries[2], id=99, prev_hash=entries[2].hash)
    report = verify_chain([*entries[:3], forged, *entries[3:]], head)
    assert not report.ok
    assert report.broken_id == 4  # the genuine entry after the forgery no longer links
