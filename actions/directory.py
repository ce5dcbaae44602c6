"""机构目录: loading the directory (机关, 人员, 分组, 保管期限, 发文计数器 seeds) from its file — a 管理员's act.

The file is the source of truth: agencies, people and groups are replaced as a whole,
counters are never lowered (storage.directory_store.save_directory). Who may load it:

- a person holding the 管理员 role (``administrator``) in the directory as stored now, proven by
  name and PIN (storage.directory_store.prove, with its PIN lockout); anyone else, a wrong PIN or
  a locked person is refused and audited (``directory_load_refused``);
- while the stored directory has no person at all, anyone: the first load (首次载入), said so in
  its audit entry;
- a file that would leave no 管理员 where there is one now is refused (InputError, field ``people``):
  nobody could change the directory again.

The load and its audit entry (``directory_loaded``: who, how proven, the counter seeds, and per
agency, person, group, 保管期限 and counter added, removed or changed which fields changed, with
digests for secrets — models.directory_changes) are one transaction. Used by ``gongwen org load``
and the demo.
"""

from __future__ import annotations

from models.directory import Directory
from models.directory_changes import directory_changes
from models.errors import InputError, RefusedDecision
from models.identity import Credentials
from models.vocabulary import Role
from storage import audit_log
from storage.database import Database
from storage.directory_store import load_directory, prove, save_directory
from storage.transitions import SYSTEM

#: How the first load, into a directory without people, is proven: it needs no credential.
FIRST_LOAD = "首次载入"


def load(db: Database, *, directory: Directory, by: Credentials | None = None) -> list[str]:
    """Replace the directory, by the 管理员 ``by`` (None: only the first load); the notes for the person
    who loaded it (counters kept higher, say)."""
    actor = by.name if by is not None else SYSTEM
    with (
        audit_log.refusals_audited(db, actor=actor, action="directory_load_refused"),
        db.transaction() as session,
    ):
        before = load_directory(session)
        proof = _check_administrator(session, before, by)
        if _administrators(before) and not _administrators(directory):
            raise InputError("目录文件中没有管理员（administrator）：载入后将无人能再更改目录", "people")
        notes = save_directory(session, directory=directory)
        detail = {
            "proof": proof,
            "agencies": len(directory.agencies),
            "people": len(directory.people),
            "groups": len(directory.groups),
            "counters": [c.model_dump() for c in directory.counters],
            "changes": directory_changes(before, load_directory(session)),
        }
        audit_log.append(session, actor=actor, action="directory_loaded", detail=detail)
    return notes


def _check_administrator(session, stored: Directory, by: Credentials | None) -> str:
    """How the loader is proven: FIRST_LOAD into an empty directory, else the 管理员's PIN."""
    if not stored.people:
        return FIRST_LOAD
    if by is None:
        raise RefusedDecision("更改机构目录须由管理员以 --as 姓名 --pin PIN 证明身份", "as")
    person = prove(session, by)
    if not person.has_role(Role.ADMINISTRATOR):
        raise RefusedDecision(f"「{person.name}」不是管理员，不能更改机构目录", "as")
    return by.proof


def _administrators(directory: Directory) -> list[str]:
    return [p.name for p in directory.people if p.has_role(Role.ADMINISTRATOR)]
