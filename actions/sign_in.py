"""登录密码: an administrator gives a person a one-time password for the 门户.

``gongwen org passwd NAME`` (an administrator, proven by PIN on the command line) makes a new one-time
password for a directory person: its argon2id hash is stored, it is shown once to the administrator to
hand over, the person's live sessions end, and the person must choose their own at first sign-in
(storage.credentials). The audit entry (``password_issued``) names the person, never the password; a
refusal (not an administrator, wrong PIN, an unknown person) is audited as ``password_issue_refused``.
"""

from __future__ import annotations

from models.authorization import check_role
from models.errors import NotFound
from models.identity import Credentials
from models.vocabulary import Role
from storage import audit_log, credentials, sign_in_sessions
from storage.database import Database
from storage.directory_store import find_person, prove


def issue_password(db: Database, *, name: str, by: Credentials) -> str:
    """A one-time password for ``name``, given by the administrator ``by``."""
    refused = {"actor": by.name, "action": "password_issue_refused", "detail": {"person": name}}
    with audit_log.refusals_audited(db, **refused), db.transaction() as session:
        check_role(prove(session, by), Role.ADMINISTRATOR, "设置登录密码")
        if find_person(session, name=name) is None:
            raise NotFound(f"目录中没有人员「{name}」", "NAME")
        one_time = credentials.issue_one_time(session, name=name)
        ended = sign_in_sessions.end_all(session, name=name)
        audit_log.append(
            session, actor=by.name, action="password_issued", detail={"person": name, "sessions_ended": ended}
        )
    return one_time
