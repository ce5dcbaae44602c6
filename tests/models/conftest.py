"""Fixtures for the pure-domain tests of ``models/``.

The kaifeng seed (examples/kaifeng) is parsed once per session: ``parse_directory``
hashes every PIN with scrypt, so variants of the directory are built from
``kf_fast_data``, a copy whose people carry the already-made ``pin_hash``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from models.directory import Directory, parse_directory
from models.pin import hash_pin
from models.spec import DocumentSpec, parse_spec

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kaifeng"


@pytest.fixture(scope="session")
def kf_data() -> dict[str, Any]:
    """Raw kaifeng directory (with plain demo PINs); never mutate it."""
    return yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kf(kf_data: dict[str, Any]) -> Directory:
    """The parsed kaifeng directory (parsed once: scrypt is slow)."""
    return parse_directory(copy.deepcopy(kf_data))


@pytest.fixture(scope="session")
def kf_pins(kf_data: dict[str, Any]) -> dict[str, str]:
    return {person["name"]: person["pin"] for person in kf_data["people"]}


@pytest.fixture(scope="session")
def kf_fast_data(kf_data: dict[str, Any], kf: Directory) -> dict[str, Any]:
    """The kaifeng directory data with pin_hash instead of pin (parses in milliseconds)."""
    data = copy.deepcopy(kf_data)
    for person in data["people"]:
        del person["pin"]
        person["pin_hash"] = kf.person(person["name"]).pin_hash
    return data


@pytest.fixture
def kf_variant(kf_fast_data: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    """A fresh deep copy of the fast kaifeng data, to change and parse."""
    return lambda: copy.deepcopy(kf_fast_data)


@pytest.fixture(scope="session")
def notice_data() -> dict[str, Any]:
    """Raw seed notice spec; never mutate it."""
    return yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def kf_notice(notice_data: dict[str, Any]) -> DocumentSpec:
    spec, warnings = parse_spec(copy.deepcopy(notice_data))
    assert warnings == []
    return spec


@pytest.fixture
def make_spec(notice_data: dict[str, Any]) -> Callable[..., DocumentSpec]:
    """The seed notice with keys replaced (and the keys in ``_drop`` removed), via parse_spec."""

    def make(_drop: tuple[str, ...] = (), **changes: Any) -> DocumentSpec:
        data = copy.deepcopy(notice_data)
        for key in _drop:
            del data[key]
        data.update(changes)
        spec, _ = parse_spec(data)
        return spec

    return make


@pytest.fixture
def notice_with(kf_notice: DocumentSpec) -> Callable[..., DocumentSpec]:
    """The seed notice with fields replaced by ``model_copy`` (no validation)."""
    return lambda **update: kf_notice.model_copy(update=update)


@pytest.fixture(scope="session")
def pin_hash() -> str:
    """One scrypt hash of PIN 123456, for small inline directories."""
    return hash_pin("123456")


@pytest.fixture
def build_directory(pin_hash: str) -> Callable[..., Directory]:
    """parse_directory over compact data; people get ``pin_hash`` unless they set pin/pin_hash."""

    def build(
        agencies: list[dict[str, Any]] = (),
        people: list[dict[str, Any]] = (),
        groups: list[dict[str, Any]] = (),
        **rest: Any,
    ) -> Directory:
        persons = []
        for person in people:
            person = dict(person)
            if "pin" not in person and "pin_hash" not in person:
                person["pin_hash"] = pin_hash
            persons.append(person)
        return parse_directory({"agencies": list(agencies), "people": persons, "groups": list(groups), **rest})

    return build
