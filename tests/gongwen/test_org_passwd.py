"""``gongwen org passwd NAME`` (actions.sign_in): an administrator, proven by PIN, gives a person a one-time
门户 password — shown once, stored as an argon2id hash only, to be changed at first sign-in; the person's live
sessions end; the audit entry names the person, never the password; anyone else is refused and audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage import credentials, sign_in_sessions
from storage.database import Database
from tests.gongwen.cli_runner import run, run_json

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kaifeng"
ADMIN = ("--as", "李红梅", "--pin", "582916")  # the administrator of examples/kaifeng/directory.yaml
PERSON = "陈立新"


@pytest.fixture
def home(tmp_path: Path, capsys) -> Path:
    home = tmp_path / "home"
    assert run(capsys, home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    return home


def _rows(home: Path, query: str) -> list:
    engine = create_engine(f"sqlite:///{home / 'gongwen.db'}")
    with engine.connect() as connection:
        rows = connection.execute(text(query)).all()
    engine.dispose()
    return rows


def test_an_administrator_gives_a_one_time_password_shown_once_and_never_stored(capsys, home: Path) -> None:
    db = Database.from_url(f"sqlite:///{home / 'gongwen.db'}")
    with db.transaction() as session:
        live = sign_in_sessions.start(session, name=PERSON, kind=sign_in_sessions.BROWSER)
    code, given = run_json(capsys, home, "org", "passwd", PERSON, *ADMIN)
    assert code == 0 and given["person"] == PERSON
    one_time = given["one_time_password"]
    with db.transaction() as session:
        checked = credentials.check_password(session, name=PERSON, password=one_time)
        assert checked is not None and checked.must_change
        assert sign_in_sessions.resolve(session, token=live, limits=sign_in_sessions.Limits()) is None
    db.engine.dispose()
    [(detail,)] = _rows(home, "SELECT detail FROM audit_events WHERE action = 'password_issued'")
    assert json.loads(detail) == {"person": PERSON, "sessions_ended": 1}
    everything = (home / "gongwen.db").read_bytes() + b"".join(p.read_bytes() for p in home.glob("gongwen.db-*"))
    assert one_time.encode() not in everything


@pytest.mark.parametrize(
    ("who", "why"),
    [
        (("--as", "郭佳佳", "--pin", "417305"), "没有设置登录密码权限"),
        (("--as", "李红梅", "--pin", "000000"), "PIN 不正确"),
    ],
)
def test_anyone_but_a_proven_administrator_is_refused_and_audited(capsys, home: Path, who, why) -> None:
    code, out, err = run(capsys, home, "org", "passwd", PERSON, *who)
    assert code == 3 and why in err
    assert _rows(home, "SELECT count(*) FROM sign_in_credentials") == [(0,)]
    [(actor,)] = _rows(home, "SELECT actor FROM audit_events WHERE action = 'password_issue_refused'")
    assert actor == who[1]


def test_an_unknown_person_is_bad_input(capsys, home: Path) -> None:
    code, _, err = run(capsys, home, "org", "passwd", "无此人", *ADMIN)
    assert code == 2 and "无此人" in err
