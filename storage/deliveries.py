"""Deliveries (核发 to each recipient), 签收 and 催办, each step one transaction with its audit entry.

A delivery is one row per (document, recipient). Sending is at most once:

- ``plan`` locks the document (it must be 已归档, or already 已核发) and adds the
  rows that do not exist yet, status 待发送;
- ``claim`` locks 待发送 rows nobody holds, marks them claimed (``claimed_at``) and
  gives each a fresh 签收码 (only its SHA-256 is stored), then commits — before
  anything is sent;
- ``record_sent`` (one transaction for a batch of claimed deliveries once their
  messages went, an audit entry for each) / ``record_failed`` (5xx: 失败) /
  ``record_deferred`` (transient: back to 待发送, claim released) record the
  outcome with the attempts and error.

A run that dies between claim and outcome leaves the row claimed: no later run
sends it again (it is counted as ``uncertain`` for a person to check), so no
recipient ever gets two copies. ``finish`` moves the document to 已核发 once no
delivery is waiting. Every send, failure, deferral, receipt, refusal, reminder and
escalation appends an audit entry in the transaction that records it.

Two corrections are made by a person, the registrar (models.authorization.check_registrar,
with their PIN; a refusal is audited):

- ``settle``: an uncertain delivery, once the office has checked whether the message
  arrived, becomes 已发送 (sent when it was claimed; its 签收码 stays valid) or goes
  back to 待发送 (claim and 签收码 released) for the next run to send. A claim younger
  than ``grace`` may belong to a run still sending and is not settled.
- ``reopen_failed``: every 失败 delivery goes back to 待发送 with the address the
  directory gives its recipient now, for the next run to send once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Row, bindparam, insert, update
from sqlmodel import Session, select

from models.authorization import check_registrar
from models.distribution import DeliveryStatus, Recipient, RecipientRole, ack_code_hash, address_of, new_ack_code
from models.errors import NotAllowed, NotFound
from models.identity import Credentials
from models.lifecycle import Action, State, transition
from models.tables import Delivery, utcnow
from storage import audit_log, documents
from storage.database import Database
from storage.directory_store import load_directory, prove
from storage.transitions import SYSTEM, move

_DELIVERIES = Delivery.__table__
_OUTLINE = (
    select(
        _DELIVERIES.c.recipient,
        _DELIVERIES.c.roles,
        _DELIVERIES.c.status,
        _DELIVERIES.c.last_error,
        _DELIVERIES.c.claimed_at,
    )
    .where(_DELIVERIES.c.document_id == bindparam("doc_id"))
    .order_by(_DELIVERIES.c.id)
)


def of_document(session: Session, *, document_id: int) -> list[Delivery]:
    """The deliveries of a document, in the order they were planned."""
    return list(session.exec(select(Delivery).where(Delivery.document_id == document_id).order_by(Delivery.id)))


def outline(session: Session, *, document_id: int) -> list[Row]:
    """Each delivery of a document as (recipient, roles, status, last_error, claimed_at), in planned order.

    Plain rows, not ORM objects: a dispatch may have thousands of deliveries.
    """
    return list(session.connection().execute(_OUTLINE, {"doc_id": document_id}))


def plan(db: Database, *, document_id: int, recipients: list[Recipient]) -> None:
    """Add a 待发送 delivery for each recipient that has none; the document must be 已归档 (or 已核发)."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        if document.state == State.DISPATCHED.value:
            return
        transition(State(document.state), Action.DISPATCH)
        known = {row.recipient for row in outline(session, document_id=document_id)}
        now = utcnow()
        rows = [
            {
                "document_id": document_id,
                "recipient": r.name,
                "address": r.address,
                "roles": [role.value for role in r.roles],
                "status": DeliveryStatus.PENDING.value,
                "attempts": 0,
                "reminders": 0,
                "created_at": now,
            }
            for r in recipients
            if r.name not in known
        ]
        if rows:
            session.connection().execute(insert(_DELIVERIES), rows)


@dataclass(frozen=True)
class Claim:
    """A delivery claimed for sending: its id, its addressee, when it was claimed, and the plain 签收码 for
    its message (never stored)."""

    delivery_id: int
    recipient: Recipient
    claimed_at: dt.datetime
    code: str


# 核发's hot path (bench/distribution.py): claiming a batch and recording its sends are Core
# statements. A claim is one SELECT … FOR UPDATE SKIP LOCKED and one executemany UPDATE (each row
# its own 签收码 hash); recording the sends is one UPDATE … RETURNING per number of attempts taken
# (usually one), then the audit entries of the whole batch under one lock of the chain head
# (audit_log.append_all). Two commits per batch: the claim's before anything is sent.
_CLAIMABLE = (
    select(_DELIVERIES)
    .where(
        _DELIVERIES.c.document_id == bindparam("doc_id"),
        _DELIVERIES.c.status == DeliveryStatus.PENDING.value,
        _DELIVERIES.c.claimed_at.is_(None),
    )
    .order_by(_DELIVERIES.c.id)
    .limit(bindparam("claim_limit"))
    .with_for_update(skip_locked=True)
)
_MARK_CLAIMED = (
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("d_id"))
    .values(code_hash=bindparam("d_code_hash"), claimed_at=bindparam("d_at"), attached_sha256=bindparam("d_attached"))
)
_MARK_SENT = (  # for the deliveries that took the same number of attempts (usually all: one)
    update(_DELIVERIES)
    .where(_DELIVERIES.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=DeliveryStatus.SENT.value,
        sent_at=bindparam("d_at"),
        claimed_at=None,
        attempts=_DELIVERIES.c.attempts + bindparam("d_tries"),
        last_error=None,
    )
    .returning(
        _DELIVERIES.c.id,
        _DELIVERIES.c.document_id,
        _DELIVERIES.c.recipient,
        _DELIVERIES.c.address,
        _DELIVERIES.c.roles,
        _DELIVERIES.c.attempts,
    )
)


def claim(db: Database, *, document_id: int, limit: int, attached: dict[str, str]) -> list[Claim]:
    """Claim up to ``limit`` 待发送 deliveries that nobody holds, each with a fresh 签收码 and the SHA-256 of
    the files its message attaches (``attached``, by name: what 核发 read from the archive)."""
    with db.transaction() as session:
        connection = session.connection()
        rows = connection.execute(_CLAIMABLE, {"doc_id": document_id, "claim_limit": limit}).all()
        if not rows:
            return []
        now, claims, marks = utcnow(), [], []
        for row in rows:
            code, code_hash = new_ack_code()
            recipient = Recipient(row.recipient, row.address, tuple(RecipientRole(role) for role in row.roles))
            claims.append(Claim(row.id, recipient, now, code))
            marks.append({"d_id": row.id, "d_code_hash": code_hash, "d_at": now, "d_attached": attached})
        connection.execute(_MARK_CLAIMED, marks)
        return claims


def _locked(session: Session, delivery_id: int) -> Delivery:
    return session.exec(select(Delivery).where(Delivery.id == delivery_id).with_for_update()).one()


def _audit(session: Session, delivery: Delivery, action: str, actor: str = SYSTEM, **detail: object) -> None:
    audit_log.append(
        session,
        actor=actor,
        action=action,
        document_id=delivery.document_id,
        detail={"recipient": delivery.recipient, "address": delivery.address, **detail},
    )


def record_sent(db: Database, *, attempts: dict[int, int]) -> None:
    """Messages the server accepted: 已发送 (``attempts``: delivery id → the attempts it took), each audited."""
    if not attempts:
        return
    with db.transaction() as session:
        connection = session.connection()
        now, rows = utcnow(), []
        for tries in sorted(set(attempts.values())):
            ids = [delivery_id for delivery_id, n in attempts.items() if n == tries]
            rows += connection.execute(_MARK_SENT, {"ids": ids, "d_at": now, "d_tries": tries}).all()
        details = (
            {"recipient": r.recipient, "address": r.address, "roles": r.roles, "attempts": r.attempts} for r in rows
        )
        audit_log.append_all(
            connection,
            [
                audit_log.Record(SYSTEM, "send", row.document_id, detail)
                for row, detail in sorted(zip(rows, details, strict=True), key=lambda pair: pair[0].id)
            ],
        )


def record_failed(db: Database, *, delivery_id: int, attempts: int, error: str) -> None:
    """The server refused the recipient for good: 失败 (its 签收码 is void)."""
    with db.transaction() as session:
        delivery = _locked(session, delivery_id)
        delivery.status, delivery.claimed_at, delivery.code_hash = DeliveryStatus.FAILED.value, None, None
        delivery.attempts += attempts
        delivery.last_error = error
        session.add(delivery)
        _audit(session, delivery, "send_failed", attempts=delivery.attempts, error=error)


def record_deferred(db: Database, *, delivery_id: int, attempts: int, error: str) -> None:
    """Not sent this time: back to 待发送 for the next run (claim and 签收码 released)."""
    with db.transaction() as session:
        delivery = _locked(session, delivery_id)
        delivery.claimed_at, delivery.code_hash = None, None
        delivery.attempts += attempts
        delivery.last_error = error
        session.add(delivery)
        if attempts:
            _audit(session, delivery, "send_deferred", attempts=delivery.attempts, error=error)


def finish(db: Database, *, document_id: int) -> State:
    """核发 done: move the document to 已核发 once no delivery is 待发送; returns its state."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id, lock=True)
        rows = outline(session, document_id=document_id)
        if document.state == State.DISPATCHED.value or any(d.status == DeliveryStatus.PENDING.value for d in rows):
            return State(document.state)
        counts = {status.value: sum(d.status == status.value for d in rows) for status in DeliveryStatus}
        return move(session, document, Action.DISPATCH, actor=SYSTEM, detail={"deliveries": counts})


def acknowledge(
    db: Database,
    *,
    code: str | None = None,
    document_id: int | None = None,
    recipient: str | None = None,
    at: dt.datetime | None = None,
) -> Delivery:
    """签收 by 签收码, or by (document, recipient); a refusal is audited, then raised.

    An unknown or already used code, or a delivery not 已发送, is NotAllowed;
    a recipient the document was not sent to is NotFound.
    """
    by = "code" if code is not None else "name"
    refusal = {"by": by, "recipient": recipient}
    with audit_log.refusals_audited(
        db,
        actor=recipient or SYSTEM,
        action="ack_refused",
        document_id=document_id,
        detail=refusal,
        refusals=(NotAllowed, NotFound),
    ):
        with db.transaction() as session:
            delivery = _delivery_to_ack(session, code, document_id, recipient)
            delivery.status, delivery.acked_at, delivery.acked_by = (
                DeliveryStatus.ACKNOWLEDGED.value,
                at or utcnow(),
                by,
            )
            session.add(delivery)
            _audit(session, delivery, "ack", actor=delivery.recipient, by=by)
            return delivery


def _delivery_to_ack(session: Session, code: str | None, document_id: int | None, recipient: str | None) -> Delivery:
    if code is not None:
        query = select(Delivery).where(Delivery.code_hash == ack_code_hash(code))
        delivery = session.exec(query.with_for_update()).first()
        if delivery is None:
            raise NotAllowed("签收码无效", "code")
    else:
        query = select(Delivery).where(Delivery.document_id == document_id, Delivery.recipient == recipient)
        delivery = session.exec(query.with_for_update()).first()
        if delivery is None:
            raise NotFound(f"本文没有分发给「{recipient}」", "recipient")
    status = DeliveryStatus(delivery.status)
    if status is DeliveryStatus.ACKNOWLEDGED:
        raise NotAllowed(f"「{delivery.recipient}」已于 {delivery.acked_at:%Y-%m-%d %H:%M} 签收，不能重复签收", "code")
    if status is not DeliveryStatus.SENT:
        raise NotAllowed(f"发给「{delivery.recipient}」的公文{status.label}，不能签收", "recipient")
    return delivery


def unacknowledged(session: Session) -> list[Delivery]:
    """Every delivery sent and not yet acknowledged, oldest first."""
    query = select(Delivery).where(Delivery.status == DeliveryStatus.SENT.value).order_by(Delivery.sent_at)
    return list(session.exec(query))


def record_reminder(db: Database, *, delivery_id: int, at: dt.datetime) -> Delivery:
    """催办 sent: one more reminder."""
    with db.transaction() as session:
        delivery = _locked(session, delivery_id)
        delivery.reminders += 1
        delivery.reminded_at = at
        session.add(delivery)
        _audit(session, delivery, "remind", count=delivery.reminders)
        return delivery


def record_escalation(db: Database, *, delivery_id: int, office: str, at: dt.datetime) -> None:
    """催办升级 sent to the issuer's office about this delivery."""
    with db.transaction() as session:
        delivery = _locked(session, delivery_id)
        delivery.escalated_at = at
        session.add(delivery)
        _audit(session, delivery, "escalate", office=office, reminders=delivery.reminders)


def _registrar(session: Session, name: str, pin: str) -> None:
    check_registrar(prove(session, Credentials(name, pin)))


@dataclass(frozen=True)
class Settlement:
    """What the registrar ``by`` (with their PIN) found out about an uncertain delivery: it arrived (``sent``) or not."""

    document_id: int
    recipient: str
    sent: bool
    by: str
    pin: str = field(repr=False)

    @property
    def outcome(self) -> str:
        return "sent" if self.sent else "unsent"


def settle(db: Database, settlement: Settlement, *, grace: dt.timedelta, now: dt.datetime | None = None) -> Delivery:
    """Settle an uncertain delivery as 已发送 or back to 待发送 (``settlement``).

    A recipient the document has no delivery for is NotFound; a delivery that is not
    uncertain, or claimed less than ``grace`` ago, is NotAllowed (audited, like a
    wrong person or PIN).
    """
    detail = {"recipient": settlement.recipient, "outcome": settlement.outcome}
    with audit_log.refusals_audited(
        db, actor=settlement.by, action="settle_refused", document_id=settlement.document_id, detail=detail
    ):
        with db.transaction() as session:
            _registrar(session, settlement.by, settlement.pin)
            delivery = _uncertain(session, settlement.document_id, settlement.recipient, now or utcnow(), grace)
            claimed_at = delivery.claimed_at
            if settlement.sent:  # the message went when it was claimed; its 签收码 is the one the recipient holds
                delivery.status, delivery.sent_at, delivery.last_error = DeliveryStatus.SENT.value, claimed_at, None
            else:  # never arrived: the next run sends it with a fresh 签收码
                delivery.code_hash = None
            delivery.claimed_at = None
            session.add(delivery)
            _audit(
                session,
                delivery,
                "settle",
                actor=settlement.by,
                outcome=settlement.outcome,
                claimed_at=claimed_at.isoformat(),
            )
            return delivery


def _uncertain(session: Session, document_id: int, recipient: str, now: dt.datetime, grace: dt.timedelta) -> Delivery:
    query = select(Delivery).where(Delivery.document_id == document_id, Delivery.recipient == recipient)
    delivery = session.exec(query.with_for_update()).first()
    if delivery is None:
        raise NotFound(f"本文没有分发给「{recipient}」", "recipient")
    status = DeliveryStatus(delivery.status)
    if status is not DeliveryStatus.PENDING or delivery.claimed_at is None:
        raise NotAllowed(f"发给「{recipient}」的公文{status.label}，发送状态并非不明，无需核实处理", "recipient")
    if now - delivery.claimed_at < grace:
        until = (delivery.claimed_at + grace).astimezone()
        raise NotAllowed(
            f"发给「{recipient}」的公文于 {delivery.claimed_at.astimezone():%Y-%m-%d %H:%M} 开始发送，"
            f"可能仍在发送中；请于 {until:%Y-%m-%d %H:%M} 以后再核实处理",
            "recipient",
        )
    return delivery


@dataclass(frozen=True)
class Reopened:
    """A 失败 delivery put back to 待发送: the address it failed at and the refusal."""

    delivery: Delivery
    previous_address: str
    previous_error: str


def reopen_failed(db: Database, *, document_id: int, by: str, pin: str) -> list[Reopened]:
    """Put every 失败 delivery of a document back to 待发送 with its recipient's current address, by the registrar.

    A recipient the directory no longer knows, or without an address, is an InputError
    and nothing changes; a document without 失败 deliveries is NotAllowed (audited).
    """
    with audit_log.refusals_audited(db, actor=by, action="retry_refused", document_id=document_id):
        with db.transaction() as session:
            _registrar(session, by, pin)
            documents.get(session, document_id=document_id, lock=True)
            query = select(Delivery).where(
                Delivery.document_id == document_id, Delivery.status == DeliveryStatus.FAILED.value
            )
            failed = list(session.exec(query.order_by(Delivery.id).with_for_update()))
            if not failed:
                raise NotAllowed("本文没有发送失败的分发，无需重发", "retry-failed")
            directory = load_directory(session)
            reopened = []
            for delivery in failed:
                previous = Reopened(delivery, delivery.address, delivery.last_error or "")
                delivery.address = address_of(directory, delivery.recipient)
                delivery.status = DeliveryStatus.PENDING.value
                session.add(delivery)
                _audit(
                    session,
                    delivery,
                    "send_retry",
                    actor=by,
                    previous_address=previous.previous_address,
                    previous_error=previous.previous_error,
                )
                reopened.append(previous)
            return reopened
