"""Saving and loading the directory (机关, 人员, 分组, 保管期限, 发文计数器 seeds)."""

from __future__ import annotations

from sqlmodel import Session, delete, select

from models.directory import Agency, CounterSeed, Directory, Group, Person, RetentionRules
from models.errors import RefusedDecision, WrongPin
from models.identity import Credentials, Identity, SignedIn
from models.pin import verify_pin
from models.sign_in_tables import UsedStamp
from models.tables import AgencyRow, GroupRow, PersonRow, RetentionRuleRow
from storage import counters, pin_lockout

_DEFAULT = "*"


def save_directory(session: Session, *, directory: Directory) -> list[str]:
    """Replace the directory with ``directory``; seed counters. Returns notes for the user.

    Agencies, people and groups are replaced as a whole (the file is the
    source of truth); counters are never lowered (a number once used stays used).
    """
    for table in (AgencyRow, PersonRow, GroupRow, RetentionRuleRow):
        session.exec(delete(table))
    session.add_all(AgencyRow(**a.model_dump()) for a in directory.agencies)
    session.add_all(PersonRow(**p.model_dump(mode="json")) for p in directory.people)
    session.add_all(GroupRow(**g.model_dump()) for g in directory.groups)
    session.add(RetentionRuleRow(doc_type=_DEFAULT, retention=directory.retention.default.value))
    session.add_all(
        RetentionRuleRow(doc_type=doc_type.value, retention=term.value)
        for doc_type, term in directory.retention.by_doc_type.items()
    )
    session.flush()
    return [
        note
        for seed in directory.counters
        if (note := counters.seed(session, code=seed.code, year=seed.year, last=seed.last))
    ]


def load_directory(session: Session) -> Directory:
    """The stored directory, as the 条例 rules use it."""
    agencies = [
        Agency.model_validate(row.model_dump(exclude={"id"}))
        for row in session.exec(select(AgencyRow).order_by(AgencyRow.id))
    ]
    people = [
        Person.model_validate(row.model_dump(exclude={"id"}))
        for row in session.exec(select(PersonRow).order_by(PersonRow.id))
    ]
    groups = [
        Group.model_validate(row.model_dump(exclude={"id"}))
        for row in session.exec(select(GroupRow).order_by(GroupRow.id))
    ]
    rules = {row.doc_type: row.retention for row in session.exec(select(RetentionRuleRow))}
    default = rules.pop(_DEFAULT, None)
    retention = RetentionRules(**({"default": default} if default else {}), by_doc_type=rules)
    seeds = [CounterSeed(code=c.code, year=c.year, last=c.last_serial) for c in counters.all_counters(session)]
    return Directory(agencies, people, groups, seeds, retention)


def pin_hashes(session: Session) -> dict[str, str]:
    """Each stored person's PIN hash, by name (models.directory.parse_directory keeps those a reload repeats)."""
    return dict(session.exec(select(PersonRow.name, PersonRow.pin_hash)).all())


def find_person(session: Session, *, name: str) -> Person | None:
    row = session.exec(select(PersonRow).where(PersonRow.name == name)).first()
    return Person.model_validate(row.model_dump(exclude={"id"})) if row else None


def prove(session: Session, who: Identity) -> Person:
    """身份证明: the directory's person ``who`` names, once their PIN matches the stored hash (for
    ``Credentials``); RefusedDecision if the name is unknown or the person is locked (PIN 锁定,
    storage.pin_lockout: even the right PIN is refused then), WrongPin if the PIN is wrong — counted
    toward the lock by the caller's storage.audit_log.refusals_audited. A ``SignedIn`` person's stamp
    (verified by the run) is taken once: its nonce is recorded in this transaction. A ``Claimed`` name
    proves nothing and is refused."""
    person = find_person(session, name=who.name)
    if person is None:
        raise RefusedDecision(f"目录中没有人员「{who.name}」", "as")
    if isinstance(who, Credentials):
        pin_lockout.check_unlocked(session, name=person.name)
        if not verify_pin(who.pin, person.pin_hash):
            raise WrongPin("PIN 不正确", "pin")
    elif isinstance(who, SignedIn):
        take_stamp(session, who)
    else:
        raise RefusedDecision(f"「{who.name}」须提供 PIN 或登录门户证明身份", "pin")
    return person


def take_stamp(session: Session, who: SignedIn) -> None:
    """Record the 门户签章's nonce as used (in the action's transaction); RefusedDecision if it was."""
    if session.get(UsedStamp, who.nonce) is not None:
        raise RefusedDecision("该门户签章已使用过（同一答复不能提交两次）", "stamp")
    session.add(UsedStamp(nonce=who.nonce, person=who.name, target=who.target))
    session.flush()
