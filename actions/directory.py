"""机构目录: loading the directory (机关, 人员, 分组, 保管期限, 发文计数器 seeds) from its file.

The file is the source of truth: agencies, people and groups are replaced as a whole,
counters are never lowered (storage.directory_store.save_directory). The load and its
audit entry (``directory_loaded``, with the counts and the counter seeds) are one
transaction. Used by ``gongwen org load`` and the demo.
"""

from __future__ import annotations

from models.directory import Directory
from storage import audit_log
from storage.database import Database
from storage.directory_store import save_directory
from storage.transitions import SYSTEM


def load(db: Database, *, directory: Directory) -> list[str]:
    """Replace the directory; the notes for the person who loaded it (counters kept higher, say)."""
    with db.transaction() as session:
        notes = save_directory(session, directory=directory)
        audit_log.append(
            session,
            actor=SYSTEM,
            action="directory_loaded",
            detail={
                "agencies": len(directory.agencies),
                "people": len(directory.people),
                "groups": len(directory.groups),
                "counters": [c.model_dump() for c in directory.counters],
            },
        )
    return notes
