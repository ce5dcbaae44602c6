"""登录凭据: a person's password and TOTP second factor, as the 门户 checks them.

- The password is kept as an argon2id hash (argon2-cffi, its recommended parameters). The first one is
  a one-time password (``issue_one_time``: printed once to the administrator who set it, never stored
  plain); whoever signs in with it must choose their own before anything else (``must_change``).
- A password of our own has at least 10 characters and is not the person's name.
- The second factor is TOTP (RFC 6238, pyotp): a secret enrolled by the person (shown once as a QR
  code), confirmed by a first code; a code is accepted once (its time step must be later than the
  last accepted one), with one step of clock drift either way.

Every secret stays in gongwen's database: nothing here is logged or put in an audit entry.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session

from models.errors import InputError
from models.sign_in_tables import SignInCredential
from models.tables import utcnow

_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
MIN_PASSWORD = 10
ISSUER = "gongwen 公文"
#: a hash for an unknown name, so that a wrong name costs as long as a wrong password
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class PasswordCheck:
    """What a correct password leads to: the new password to choose, the TOTP to enrol or to enter."""

    name: str
    must_change: bool
    totp_enrolled: bool


def check_password(session: Session, *, name: str, password: str) -> PasswordCheck | None:
    """The person's state once ``password`` is theirs; None for a wrong password or an unknown name
    (the same answer and about the same time either way)."""
    row = session.get(SignInCredential, name)
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return PasswordCheck(name, row.must_change, bool(row.totp_secret and row.totp_confirmed))


def issue_one_time(session: Session, *, name: str) -> str:
    """A new one-time password for ``name`` (its hash stored, to be changed at first sign-in); the
    second factor is kept. Returned once, for the administrator to hand over."""
    one_time = secrets.token_urlsafe(12)
    row = session.get(SignInCredential, name) or SignInCredential(name=name, password_hash="")
    row.password_hash, row.must_change, row.updated_at = _HASHER.hash(one_time), True, utcnow()
    session.add(row)
    return one_time


def choose_password(session: Session, *, name: str, password: str) -> None:
    """The person's own password, replacing a one-time one; InputError (field 新密码) if too weak."""
    if len(password) < MIN_PASSWORD:
        raise InputError(f"新密码至少 {MIN_PASSWORD} 个字符", "新密码")
    if name in password:
        raise InputError("新密码不得包含本人姓名", "新密码")
    row = session.get(SignInCredential, name)
    if row is None:
        raise InputError(f"「{name}」尚未设置登录密码，请联系管理员", "姓名")
    row.password_hash, row.must_change, row.updated_at = _HASHER.hash(password), False, utcnow()
    session.add(row)


def has_credential(session: Session, *, name: str) -> bool:
    return session.get(SignInCredential, name) is not None


def totp_enrolment(session: Session, *, name: str) -> str:
    """The provisioning URI (otpauth://…) of the person's TOTP secret, a new secret when none is
    confirmed yet; shown as a QR code to the person alone, during sign-in."""
    row = session.get(SignInCredential, name)
    if row.totp_secret is None or not row.totp_confirmed:
        row.totp_secret, row.updated_at = pyotp.random_base32(), utcnow()
        session.add(row)
    return pyotp.TOTP(row.totp_secret).provisioning_uri(name=name, issuer_name=ISSUER)


def check_totp(session: Session, *, name: str, code: str, now: float | None = None) -> bool:
    """Whether ``code`` is the person's current TOTP code, not used before (it confirms an enrolment);
    the step is then recorded so that the same code is not taken twice."""
    row = session.get(SignInCredential, name)
    if row is None or row.totp_secret is None:
        return False
    totp = pyotp.TOTP(row.totp_secret)
    now = time.time() if now is None else now
    step = totp.timecode(dt.datetime.fromtimestamp(now, dt.UTC))
    for candidate in (step - 1, step, step + 1):
        if candidate > row.totp_last_step and secrets.compare_digest(totp.generate_otp(candidate), code.strip()):
            row.totp_last_step, row.totp_confirmed, row.updated_at = candidate, True, utcnow()
            session.add(row)
            return True
    return False
