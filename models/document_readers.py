"""知悉范围: who may read a document's files (its archived files, its draft's PDF) through a download link.

A person may when they are

1. on its route: its 拟稿人, a 核稿人, a 会签人 or its 签发人;
2. a registrar (登记, 印制, 核发 are theirs: Role.REGISTRAR);
3. a contact of one of its recipients: a person of an agency named in 主送, 抄报 or 抄送 (groups expanded),
   or a person named there;
4. an auditor (档案利用: Role.AUDITOR).

Anyone else is refused with ``RefusedDecision`` saying so; the caller audits it.
"""

from __future__ import annotations

from models.directory import Agency, Directory, Person
from models.errors import NotFound, RefusedDecision
from models.tables import DocumentContent
from models.vocabulary import Role


def check_reader(directory: Directory, person: Person, document: DocumentContent, drafter: str) -> Person:
    """The person, if they may read ``document`` (drafted by ``drafter``); RefusedDecision otherwise."""
    if person.name in {drafter, *document.review, *document.cosign, document.sign}:
        return person
    if person.has_role(Role.REGISTRAR) or person.has_role(Role.AUDITOR):
        return person
    if person.name in _recipient_contacts(directory, document):
        return person
    raise RefusedDecision(
        f"「{person.name}」不在本文的知悉范围内（拟稿、核稿、会签、签发人员，登记人员，收文单位人员，审计人员）",
        "token",
    )


def _recipient_contacts(directory: Directory, document: DocumentContent) -> set[str]:
    """The people of the recipients in 主送, 抄报 and 抄送 (a name no longer in the directory counts for none)."""
    agencies: set[str] = set()
    people: set[str] = set()
    for name in [*document.to, *document.cc_report, *document.cc]:
        try:
            items = directory.expand(name)
        except NotFound:
            continue
        for item in items:
            (agencies if isinstance(item, Agency) else people).add(item.name)
    return people | {p.name for p in directory.people if p.agency in agencies}
