"""档案利用 and 四性检测: what an auditor does with the archive, for the command line and the audit-retrieve flow.

- ``find_archived``: the archived document of a 发文字号 (NotFound naming the field otherwise);
- ``verify``: the 四性检测 of one archived document (``ref``) or of all — the audit chain and its
  anchors, each package (storage.archive_checks), the records the packages cannot hold
  (storage.record_checks) — as one ``Verification``;
- ``fetch``: the archived files of a document, each checked against the package's manifest before
  any is handed out.

Reading only: nothing here writes, so an auditor's read-only key is enough.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlmodel import Session

from doc_templates import reading
from models import archive_package as pkg
from models.errors import NotFound, VerificationFailed
from models.refno import ReferenceNumber
from models.tables import ArchiveRecord
from storage import archive_checks, audit_anchors, record_checks
from storage.archive.base import ArchiveStore
from storage.archive_checks import Check
from storage.archive_search import Found, find, record_for_ref
from storage.database import Database


@dataclass(frozen=True)
class Verification:
    """四性检测's result: the checks of the whole (audit chain, anchors, records) and those of each package."""

    general: list[Check]
    packages: list[tuple[ArchiveRecord, list[Check]]]

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.general if not c.ok] + [c for _, checks in self.packages for c in checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.failures


def find_archived(session: Session, ref: str, field: str = "REF") -> Found:
    """The archived document whose 发文字号 is ``ref``; InputError or NotFound naming ``field``."""
    ReferenceNumber.parse(ref, field)
    found = record_for_ref(session, ref=ref)
    if found is None:
        raise NotFound(f"没有发文字号为「{ref}」的归档公文", field)
    return found


def verify(
    db: Database,
    store: ArchiveStore,
    *,
    ref: str | None = None,
    field: str = "REF",
    now: dt.datetime | None = None,
    each: Callable[[list[ArchiveRecord]], Iterable[ArchiveRecord]] = lambda records: records,
) -> Verification:
    """四性检测 of the document ``ref`` (all archived documents when None); ``each`` wraps the packages'
    loop (the command line's progress bar)."""
    now = now or dt.datetime.now(dt.UTC)
    with db.transaction() as session:
        general = audit_anchors.chain_checks(session, store)
        if ref is not None:
            records = [find_archived(session, ref, field).record]
            general += record_checks.check_records(session, [records[0].document_id])
        else:
            general.append(archive_checks.archived_without_package(session))
            general += record_checks.check_records(session)
            records = [f.record for f in find(session, limit=10**9)]
        packages = [(r, archive_checks.check_package(session, store, r, reading, now)) for r in each(records)]
    return Verification(general, packages)


def fetch(store: ArchiveStore, record: ArchiveRecord) -> dict[str, bytes]:
    """Every archived file of a package at its recorded version, once each matches the manifest;
    VerificationFailed (nothing handed out) if one does not."""
    files = {name: store.get(f"{record.prefix}/{name}", version) for name, version in record.versions.items()}
    manifest = json.loads(files[pkg.MANIFEST])
    for entry in manifest["files"]:
        if pkg.digest(files[entry["name"]])["sha256"] != entry["sha256"]:
            raise VerificationFailed(f"{entry['name']} 与清单不符，未写出任何文件", "REF")
    return files
