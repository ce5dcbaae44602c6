"""登录凭据 and 登录会话 (storage.credentials, storage.sign_in_sessions) on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time

import pyotp
import pytest
from sqlmodel import select

from models.errors import InputError, RefusedDecision
from models.identity import SignedIn
from models.sign_in_tables import SignInCredential, SignInSession
from storage import credentials, sign_in_sessions
from storage.database import Database
from storage.directory_store import prove, save_directory

NAME = "陈立新"
LIMITS = sign_in_sessions.Limits(idle=dt.timedelta(minutes=30), lifetime=dt.timedelta(hours=12))


def test_one_time_password_must_be_changed_and_is_never_stored_plain(db: Database) -> None:
    with db.transaction() as session:
        one_time = credentials.issue_one_time(session, name=NAME)
    with db.transaction() as session:
        stored = session.get(SignInCredential, NAME).password_hash
        assert one_time not in stored and stored.startswith("$argon2id$")
        assert credentials.check_password(session, name=NAME, password="错误的密码") is None
        checked = credentials.check_password(session, name=NAME, password=one_time)
    assert checked.must_change and not checked.totp_enrolled
    with db.transaction() as session:
        credentials.choose_password(session, name=NAME, password="长一些的新密码abc")
    with db.transaction() as session:
        assert credentials.check_password(session, name=NAME, password=one_time) is None
        assert not credentials.check_password(session, name=NAME, password="长一些的新密码abc").must_change


@pytest.mark.parametrize(("password", "why"), [("short", "至少 10 个字符"), (f"{NAME}12345678", "不得包含本人姓名")])
def test_weak_passwords_are_refused(db: Database, password: str, why: str) -> None:
    with db.transaction() as session:
        credentials.issue_one_time(session, name=NAME)
    with pytest.raises(InputError, match=why) as refused, db.transaction() as session:
        credentials.choose_password(session, name=NAME, password=password)
    assert refused.value.field == "新密码"


def test_unknown_name_and_wrong_password_answer_alike(db: Database) -> None:
    with db.transaction() as session:
        assert credentials.check_password(session, name="无此人", password="whatever-long") is None


def test_totp_code_accepted_once_and_only_near_its_time(db: Database) -> None:
    with db.transaction() as session:
        credentials.issue_one_time(session, name=NAME)
        uri = credentials.totp_enrolment(session, name=NAME)
    secret = pyotp.parse_uri(uri).secret
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    with db.transaction() as session:
        assert not credentials.check_totp(session, name=NAME, code=pyotp.TOTP(secret).at(now - 300), now=now)
        assert credentials.check_totp(session, name=NAME, code=code, now=now)
    with db.transaction() as session:
        assert session.get(SignInCredential, NAME).totp_confirmed
        assert not credentials.check_totp(session, name=NAME, code=code, now=now)  # a replay
        # once confirmed, the enrolment keeps the same secret (it is not shown again by the gateway)
        assert pyotp.parse_uri(credentials.totp_enrolment(session, name=NAME)).secret == secret


def test_sessions_keep_only_the_token_digest_and_expire(db: Database) -> None:
    with db.transaction() as session:
        token = sign_in_sessions.start(session, name=NAME, kind=sign_in_sessions.BROWSER)
    with db.transaction() as session:
        rows = session.exec(select(SignInSession)).all()
        assert [row.token_sha256 for row in rows] == [sign_in_sessions.digest(token)]
        assert sign_in_sessions.resolve(session, token=token, limits=LIMITS) == NAME
        assert sign_in_sessions.resolve(session, token=token + "x", limits=LIMITS) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)
    with db.transaction() as session:
        assert sign_in_sessions.resolve(session, token=token, limits=LIMITS, now=later) is None
    with db.transaction() as session:  # ended for good, even if asked "earlier" again
        assert sign_in_sessions.resolve(session, token=token, limits=LIMITS) is None


def test_absolute_lifetime_and_sign_out(db: Database) -> None:
    with db.transaction() as session:
        first = sign_in_sessions.start(session, name=NAME, kind=sign_in_sessions.BROWSER)
        second = sign_in_sessions.start(session, name=NAME, kind=sign_in_sessions.COMMAND_LINE)
    with db.transaction() as session:
        row = session.get(SignInSession, sign_in_sessions.digest(first))
        row.started_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=13)
        session.add(row)
    with db.transaction() as session:
        assert sign_in_sessions.resolve(session, token=first, limits=LIMITS) is None
        sign_in_sessions.end(session, token=second)
    with db.transaction() as session:
        assert sign_in_sessions.resolve(session, token=second, limits=LIMITS) is None


def test_a_stamp_is_taken_once(db: Database, kaifeng) -> None:
    """prove() records a 门户签章's nonce with the action: the same stamp offered again is refused."""
    with db.transaction() as session:
        save_directory(session, directory=kaifeng)
    signed = SignedIn(NAME, nonce="a" * 32, target="answer:run:answer-0")
    with db.transaction() as session:
        assert prove(session, signed).name == NAME
    with pytest.raises(RefusedDecision, match="已使用过") as refused, db.transaction() as session:
        prove(session, signed)
    assert refused.value.field == "stamp"
