"""机构目录变更 (models.directory_changes): which fields of which entries a load changed; secrets by digest only."""

from __future__ import annotations

import hashlib

from models.directory import CounterSeed, Directory, RetentionRules
from models.directory_changes import directory_changes
from models.vocabulary import DocType, Retention


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_each_section_names_what_was_added_removed_or_changed(kf: Directory) -> None:
    first, second, *rest = kf.people
    people = [first.model_copy(update={"title": "科长", "roles": []}), *rest]
    agencies = [kf.agencies[0].model_copy(update={"email": "new@kaifeng.example.cn"}), *kf.agencies[1:]]
    groups = [kf.groups[0].model_copy(update={"members": kf.groups[0].members[:1]}), *kf.groups[1:]]
    retention = RetentionRules(default=Retention.PERMANENT, by_doc_type={DocType.NOTICE: Retention.TEN_YEARS})
    counters = [CounterSeed(code="汴打假", year=2030, last=7)]
    changed = Directory(agencies, people, groups, counters, retention)

    changes = directory_changes(kf, changed)

    assert changes["agencies"] == {kf.agencies[0].name: {"change": "changed", "fields": ["email"]}}
    assert changes["people"][first.name] == {"change": "changed", "fields": ["roles", "title"]}
    removed = changes["people"][second.name]
    assert removed["change"] == "removed" and "pin_hash" in removed["fields"]
    assert removed["secrets"] == {"pin_hash": {"old_sha256": _sha256(second.pin_hash), "new_sha256": None}}
    assert changes["groups"] == {kf.groups[0].name: {"change": "changed", "fields": ["members"]}}
    assert changes["retention"]["default"] == {"change": "changed", "fields": ["retention"]}
    assert changes["counters"]["汴打假/2030"] == {"change": "added", "fields": ["last"]}
    assert directory_changes(kf, kf) == {section: {} for section in changes}


def test_a_pin_swapped_and_swapped_back_is_two_changes_with_digests_only(kf: Directory) -> None:
    person = kf.people[0]
    other_hash = kf.people[1].pin_hash
    swapped = Directory(kf.agencies, [person.model_copy(update={"pin_hash": other_hash}), *kf.people[1:]], kf.groups)
    original = Directory(kf.agencies, kf.people, kf.groups)

    there = directory_changes(original, swapped)["people"][person.name]
    back = directory_changes(swapped, original)["people"][person.name]

    assert there["fields"] == back["fields"] == ["pin_hash"]
    assert there["secrets"]["pin_hash"] == {"old_sha256": _sha256(person.pin_hash), "new_sha256": _sha256(other_hash)}
    assert back["secrets"]["pin_hash"] == {"old_sha256": _sha256(other_hash), "new_sha256": _sha256(person.pin_hash)}
    assert person.pin_hash not in repr(there) + repr(back) and other_hash not in repr(there) + repr(back)
