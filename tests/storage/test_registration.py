"""登记's audit entries on SQLite and PostgreSQL: whatever the actor's name, the chain verifies.

On PostgreSQL the database seals the entry (storage.registration): these check that what it
hashes is the text models.audit_chain hashes, for names JSON has to escape, and that an
actor named like one of the stand-ins still gets a correct entry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from models.audit_chain import entry_hash
from models.signed_content import LEGACY, content_digest, content_of_row
from storage import audit_log, documents, registration
from tests.storage.test_registration_concurrency import signed_documents

ACTORS = [
    "系统",
    '引号"与\\反斜杠',
    "换行\n制表\t回车\r退格\b换页\f",
    "控制\x01\x1f\x7f字符",
    "\u2028\u2029行分隔符",
    "😀 与 〔〕号",
    "</script>&<>'",
    "",
]
STAND_INS = [str(stand_in) for stand_in in registration._STAND_INS.values()]


def _registered(db, actors: list[str]) -> list:
    ids = signed_documents(db, len(actors))
    numbers = [registration.register(db, document_id=i, actor=a) for i, a in zip(ids, actors, strict=True)]
    with db.transaction() as session:
        report = audit_log.verify(session)
        events = [audit_log.trail(session, document_id=i)[-1] for i in ids]
        stored = [documents.get(session, document_id=i) for i in ids]
    assert (report.ok, report.checked) == (True, len(actors)), report.reason
    assert [n.serial for n in numbers] == list(range(1, len(actors) + 1))
    assert [(d.state, d.ref, d.ref_serial) for d in stored] == [("registered", str(n), n.serial) for n in numbers]
    assert [e.actor for e in events] == actors
    early = [{**content_digest(content_of_row(d)).as_detail(), "signed_content": LEGACY} for d in stored]
    assert [json.loads(e.detail) for e in events] == [  # signed without a 签发 decision: recorded as 早期签发
        {"from": "signed", "to": "registered", "ref": str(n), **e} for n, e in zip(numbers, early, strict=True)
    ]
    return events


def test_entries_verify_whatever_the_actor_is_called(db):
    events = _registered(db, ACTORS)
    assert [e.id for e in events] == list(range(1, len(ACTORS) + 1))
    for event in events:  # the form of storage.audit_log.next_entry's time, in UTC
        at = dt.datetime.fromisoformat(event.at)
        assert (at.isoformat(timespec="microseconds"), at.utcoffset()) == (event.at, dt.timedelta(0))
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_an_actor_named_like_a_stand_in_gets_a_correct_entry_too(db, monkeypatch):
    plain, calls = registration._register_plain, []

    def spy(*args):
        calls.append(args)
        return plain(*args)

    monkeypatch.setattr(registration, "_register_plain", spy)
    actors = [*STAND_INS, f"前{STAND_INS[0]}后{STAND_INS[2]}"]
    _registered(db, actors)
    assert len(calls) == len(actors)  # on PostgreSQL too: these take the plain path


def test_postgresql_seals_registrations_in_the_database(postgres_db, monkeypatch):
    def not_here(*_args):
        raise AssertionError("_register_plain called")

    monkeypatch.setattr(registration, "_register_plain", not_here)
    _registered(postgres_db, ACTORS)


def test_the_sealed_text_is_what_entry_hash_hashes():
    entry = audit_log.next_entry(last_id=4, last_hash="ab" * 32, actor=ACTORS[2], action="register", detail={"k": "〔"})
    assert hashlib.sha256(audit_log.sealed_text(entry).encode()).hexdigest() == entry_hash(entry) == entry.hash


def test_the_stand_ins_are_written_as_they_are():
    for stand_in in STAND_INS:
        assert json.dumps(stand_in, ensure_ascii=False) == f'"{stand_in}"'


def test_a_text_is_cut_only_at_stand_ins_found_once_each_in_order():
    serial, at = STAND_INS[0], STAND_INS[1]
    assert registration._cut("ref", f"汴打假〔2022〕{serial}号") == {"ref_0": "汴打假〔2022〕", "ref_1": "号"}
    assert registration._cut("ref", f"{serial}〔2022〕{serial}号") is None
    assert registration._cut("ref", "汴打假〔2022〕1号") is None
    sealed = f"a{at}b{serial}c{STAND_INS[2]}d{STAND_INS[3]}e"
    assert registration._cut("sealed", sealed) == {f"sealed_{i}": p for i, p in enumerate("abcde")}
    assert registration._cut("sealed", f"a{serial}b{at}c{STAND_INS[2]}d{STAND_INS[3]}e") is None
