"""``gongwen org load`` is a 管理员's act (actions.directory): the first load into an empty directory needs no
credential, every later one the PIN of a person who is an administrator in the directory as stored; refusals
are audited; a file leaving no administrator is refused; the audit entry names the fields each load changed,
with digests for PIN hashes and never the PINs or hashes themselves. And what the command writes is private:
the home 0700, gongwen.db and its -wal/-shm 0600."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from models.pin import hash_pin
from tests.gongwen.cli_runner import run, run_json

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kaifeng"
ADMIN = ("--as", "李红梅", "--pin", "582916")  # the administrator of examples/kaifeng/directory.yaml
PERSON = "郭佳佳"


def _audit(home: Path) -> list[tuple[str, str, dict]]:
    engine = create_engine(f"sqlite:///{home / 'gongwen.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT actor, action, detail FROM audit_events ORDER BY id")).all()
    engine.dispose()
    return [(actor, action, json.loads(detail)) for actor, action, detail in rows]


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hashed() -> dict:
    """The seed directory with each PIN given as its hash, so that a reload changes only what a test changes."""
    data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
    for person in data["people"]:
        person["pin_hash"] = hash_pin(person.pop("pin"))
    return data


@pytest.fixture
def home(tmp_path: Path, capsys, hashed: dict) -> Path:
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(_write(tmp_path, "directory.yaml", hashed)))[0] == 0
    return home


def test_the_first_load_needs_no_credential_and_says_so(home, hashed):
    [(actor, action, detail)] = _audit(home)
    assert (actor, action, detail["proof"]) == ("系统", "directory_loaded", "首次载入")
    stored = next(p["pin_hash"] for p in hashed["people"] if p["name"] == PERSON)
    assert detail["changes"]["people"][PERSON] == {
        "change": "added",
        "fields": ["agency", "email", "name", "pin_hash", "roles", "title"],
        "secrets": {"pin_hash": {"old_sha256": None, "new_sha256": hashlib.sha256(stored.encode()).hexdigest()}},
    }


@pytest.mark.parametrize(
    ("credentials", "field", "reason"),
    [
        ((), "as", "须由管理员"),
        (("--as", PERSON, "--pin", "417305"), "as", "不是管理员"),
        (("--as", "李红梅", "--pin", "000000"), "pin", "PIN 不正确"),
        (("--as", "无此人", "--pin", "582916"), "as", "没有人员"),
    ],
)
def test_a_reload_without_an_administrators_pin_is_refused_and_audited(
    capsys, home, tmp_path, hashed, credentials, field, reason
):
    path = _write(tmp_path, "changed.yaml", {**hashed, "groups": hashed["groups"][:1]})
    code, out = run_json(capsys, home, "org", "load", str(path), *credentials)
    assert (code, out["field"]) == (3, field) and reason in out["error"]
    actor, action, detail = _audit(home)[-1]
    assert (action, detail["field"]) == ("directory_load_refused", field) and reason in detail["reason"]
    assert [a for _, a, _ in _audit(home)].count("directory_loaded") == 1  # the stored directory is unchanged


def test_a_file_without_an_administrator_is_refused(capsys, home, tmp_path, hashed):
    people = [{**p, "roles": [r for r in p["roles"] if r != "administrator"]} for p in hashed["people"]]
    code, out = run_json(
        capsys, home, "org", "load", str(_write(tmp_path, "no-admin.yaml", {**hashed, "people": people})), *ADMIN
    )
    assert (code, out["field"]) == (2, "people") and "管理员" in out["error"]
    assert len(_audit(home)) == 1


def test_a_pin_swapped_and_swapped_back_is_two_audited_changes_with_digests_only(capsys, home, tmp_path, hashed):
    swapped = json.loads(json.dumps(hashed))
    mine = next(p for p in swapped["people"] if p["name"] == PERSON)
    mine["pin_hash"] = hash_pin("111111")
    assert run(capsys, home, "org", "load", str(_write(tmp_path, "swapped.yaml", swapped)), *ADMIN)[0] == 0
    assert run(capsys, home, "org", "load", str(_write(tmp_path, "back.yaml", hashed)), *ADMIN)[0] == 0

    loads = [(actor, detail) for actor, action, detail in _audit(home) if action == "directory_loaded"][1:]
    assert [actor for actor, _ in loads] == ["李红梅", "李红梅"]
    there, back = (detail["changes"]["people"] for _, detail in loads)
    assert there.keys() == back.keys() == {PERSON}
    assert there[PERSON]["fields"] == back[PERSON]["fields"] == ["pin_hash"]
    there_digests, back_digests = there[PERSON]["secrets"]["pin_hash"], back[PERSON]["secrets"]["pin_hash"]
    assert there_digests["new_sha256"] != there_digests["old_sha256"]
    assert (back_digests["old_sha256"], back_digests["new_sha256"]) == (
        there_digests["new_sha256"],
        there_digests["old_sha256"],
    )
    log = json.dumps(_audit(home), ensure_ascii=False)
    secrets = [p["pin_hash"] for p in hashed["people"]] + [mine["pin_hash"], "111111", "582916", "417305"]
    assert not [secret for secret in secrets if secret in log]


def test_a_reload_of_the_same_file_with_pins_in_clear_changes_nothing(capsys, tmp_path):
    """A PIN in clear that matches its stored hash keeps the hash: the entry shows only what really changed."""
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
    next(p for p in data["people"] if p["name"] == PERSON)["pin"] = "111111"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"), *ADMIN)[0] == 0
    assert run(capsys, home, "org", "load", str(_write(tmp_path, "new-pin.yaml", data)), *ADMIN)[0] == 0
    same, changed = (detail["changes"] for _, action, detail in _audit(home)[1:] if action == "directory_loaded")
    assert same == {"agencies": {}, "people": {}, "groups": {}, "retention": {}, "counters": {}}
    assert {name: entry["fields"] for name, entry in changed["people"].items()} == {PERSON: ["pin_hash"]}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_home_and_its_database_are_private_after_a_real_command(tmp_path):
    home = tmp_path / "home"
    gongwen = Path(sys.executable).with_name("gongwen")
    command = [str(gongwen), "--home", str(home), "org", "load", str(EXAMPLE / "directory.yaml")]
    assert subprocess.run(command, capture_output=True, check=False, umask=0o022).returncode == 0
    files = sorted(home.glob("gongwen.db*"))
    assert home / "gongwen.db" in files
    assert (_mode(home), {f.name: _mode(f) for f in files}) == (0o700, {f.name: 0o600 for f in files})
    # a home an earlier version left open is closed again by the next command
    home.chmod(0o755)
    (home / "gongwen.db").chmod(0o644)
    reload = [*command, *ADMIN]
    assert subprocess.run(reload, capture_output=True, check=False, umask=0o022).returncode == 0
    assert (_mode(home), _mode(home / "gongwen.db")) == (0o700, 0o600)
