"""核发, 签收 and 催办 (条例 第二十四条, 第二十五条): thin orchestration over models, storage and delivery.

``dispatch`` resolves every recipient of a 已归档 document (models.distribution) before
it writes or sends anything, plans one delivery per recipient, then claims, sends and
records them (storage.deliveries: at most one message per recipient, whatever
crashes or reruns), over as many connections as the channel has (``Channel.connections``,
GONGWEN_MAIL_CONNECTIONS): a sender thread per connection claims its own batch, sends it and
records it, until nothing waits; a sender that stops the run (below) stops the others before
their next message, and what they claimed and did not send is released. A message the server may have taken — the connection lost after
its last byte, before the answer (DeliveryUncertain) — stays claimed, uncertain, like
one whose run died after sending it, and the others go on. A transient error (4xx, server down) is retried with exponential
backoff (delivery.retry, the one retry layer: nothing retries on top of it); if it persists, the run stops: what
was sent stays sent, the rest stays 待发送, the document stays 已归档, and ServiceUnavailable says to run it again.
Messages the server accepted while the database was down are recorded once it is back (the run
waits up to ``RetryPolicy.record_patience``): only this run knows they went. A
server that refuses the channel itself (wrong password, untrusted certificate:
ChannelRefused) stops the run the same way at once, without retries. A
permanent refusal of one recipient (5xx) marks that delivery 失败 and the others
go on. Once nothing waits, the document is 已核发.

Two corrections by the registrar (PIN checked, audited; storage.deliveries):
``settle`` records what the office found out about an uncertain delivery (a run
died between claiming and recording it) — 已发送, or back to 待发送 for the next
``dispatch`` — and ``retry_failed`` puts the 失败 deliveries back to 待发送 with the
addresses the directory gives now and dispatches them once.

``acknowledge_code`` and ``acknowledge_name`` record a 签收 by the code from the
message or by the recipient's name. ``remind`` sends 催办 to
each overdue delivery and escalates to the issuer's office after M reminders
(models.distribution.chase).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage

from delivery.base import Channel
from delivery.message import (
    Attachments,
    Letterhead,
    Overdue,
    attachments,
    dispatch_message,
    escalation_message,
    reminder_message,
)
from delivery.retry import CLAIM_BATCH, SETTLE_GRACE, Attempted, RetryPolicy
from models.directory import Directory
from models.distribution import (
    Chase,
    ChasePolicy,
    DeliveryStatus,
    Recipient,
    RecipientRole,
    chase,
    issuer_office,
    resolve_recipients,
)
from models.errors import (
    ChannelRefused,
    DeliveryDeferred,
    DeliveryRejected,
    DeliveryUncertain,
    InputError,
    ServiceUnavailable,
)
from models.lifecycle import Action, State, transition
from models.tables import Delivery, Document
from storage import archiving, deliveries, documents
from storage.archive.base import ArchiveStore
from storage.database import Database
from storage.directory_store import load_directory


@dataclass(frozen=True)
class MailOptions:
    """How messages are sent: From address, .docx or not, the retry policy (delivery.retry: tries per
    message, the waits, how long a run waits for a database that is down to record the messages the server
    accepted; ``sleep`` waits, tests pass their own), and how many deliveries are claimed and recorded per
    transaction (``batch``). A claim must not outlive SETTLE_GRACE, so nobody settles a claim the run may
    still send or record: the policy is checked against the batch."""

    sender: str
    attach_docx: bool = False
    retry: RetryPolicy = RetryPolicy()
    batch: int = CLAIM_BATCH
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.retry.check(self.batch)


@dataclass(frozen=True)
class DispatchReport:
    """Where a document's 核发 stands after a run."""

    document_id: int
    state: State
    sent_now: int
    by_status: dict[str, int]
    by_role: dict[str, int]
    failed: dict[str, str] = field(default_factory=dict)
    uncertain: list[str] = field(default_factory=list)


def letterhead(document: Document, sender: str) -> Letterhead:
    """What every message about ``document`` names: its 发文字号, 标题 and 发文机关 (the 主办机关)."""
    return Letterhead(
        ref=document.ref or str(document.id), title=document.title, issuer=document.issuers[0], sender=sender
    )


def recipient_of(delivery: Delivery) -> Recipient:
    """The addressee of a delivery, with its roles."""
    return Recipient(delivery.recipient, delivery.address, tuple(RecipientRole(r) for r in delivery.roles))


def send_with_retries(channel: Channel, message: EmailMessage, options: MailOptions) -> Attempted:
    """Send one message under the options' retry policy (delivery.retry): a transient error is tried again
    after the policy's waits; a permanent refusal, or a message the server may have taken, is not."""
    return options.retry.send(channel, message, options.sleep)


def dispatch(
    db: Database, channel: Channel, *, document_id: int, options: MailOptions, store: ArchiveStore
) -> DispatchReport:
    """核发 a 已归档 document to every recipient once; safe to run again (see the module docstring).

    What is attached is read from the archive ``store`` and checked against the package's manifest
    (storage.archiving.issued_files: a mismatch stops 核发 before anything is sent); each delivery
    records the SHA-256 of the files its message attaches."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id)
        recipients: list[Recipient] = []
        if document.state != State.DISPATCHED.value:
            transition(State(document.state), Action.DISPATCH)
            recipients = resolve_recipients(
                load_directory(session), to=document.to, cc_report=document.cc_report, cc=document.cc
            )
    names = ("document.pdf", "document.docx") if options.attach_docx else ("document.pdf",)
    files = archiving.issued_files(db, store, document_id=document_id, names=names)
    attached = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    deliveries.plan(db, document_id=document_id, recipients=recipients)
    head = letterhead(document, options.sender)
    parts = attachments(head, pdf=files["document.pdf"], docx=files.get("document.docx"))
    claim = functools.partial(deliveries.claim, db, document_id=document_id, limit=options.batch, attached=attached)
    run = _Run(db, channel, head, parts, options)
    try:
        with ThreadPoolExecutor(channel.connections, thread_name_prefix="dispatch") as senders:
            for sender in [senders.submit(run.sender, claim) for _ in range(channel.connections)]:
                sender.result()  # (the first sender's exception, if any, once all have stopped)
    finally:
        channel.close()
    if run.stopped is not None:
        raise _stopped(db, document_id, run.sent, run.stopped)
    state = deliveries.finish(db, document_id=document_id)
    return _report(db, document_id, state, run.sent)


@dataclass
class _Run:
    """One dispatch's senders (one thread per connection of the channel): how many messages went, and
    what stopped the run — a message that could not go (``stopped``) or an exception in a sender."""

    db: Database
    channel: Channel
    head: Letterhead
    parts: Attachments
    options: MailOptions
    sent: int = 0
    stopped: DeliveryDeferred | ChannelRefused | None = None
    reason: str = ""
    _halt: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def halt(self, reason: str, error: DeliveryDeferred | ChannelRefused | None = None) -> None:
        """Stop every sender before its next message; the first reason is the run's."""
        with self._lock:
            if not self._halt.is_set():
                self.stopped, self.reason = error, reason
                self._halt.set()

    def sender(self, claim: Callable[[], list[deliveries.Claim]]) -> None:
        """Claim a batch, send it, record it; again until nothing waits or the run stops."""
        try:
            while not self._halt.is_set() and (claims := claim()):
                accepted, error = self._send_claims(claims)
                with self._lock:
                    self.sent += accepted
                if error is not None:
                    self.halt(error.message, error)
        except BaseException as error:
            self.halt(f"核发中断：{error}")
            raise

    def _send_claims(self, claims: list[deliveries.Claim]) -> tuple[int, DeliveryDeferred | ChannelRefused | None]:
        """Send a batch of claimed deliveries; (how many went, the error that stopped it).

        What did not go when the run stops is released (待发送 again): a transient error
        or a refused channel means the message was not accepted, and a sender stopped by
        another one sends nothing more.
        """
        db, options, accepted = self.db, self.options, {}
        try:
            for index, claimed in enumerate(claims):
                if self._halt.is_set():
                    _release(db, claims[index:], self.reason)
                    break
                message = dispatch_message(self.head, claimed.recipient, code=claimed.code, files=self.parts)
                outcome = send_with_retries(self.channel, message, options)
                if outcome.error is None:
                    accepted[claimed.delivery_id] = outcome.attempts
                elif isinstance(outcome.error, DeliveryUncertain):
                    continue  # stays claimed: uncertain, never sent again
                elif isinstance(outcome.error, DeliveryRejected):
                    deliveries.record_failed(
                        db, delivery_id=claimed.delivery_id, attempts=outcome.attempts, error=outcome.error.message
                    )
                else:
                    _release(db, claims[index:], outcome.error.message, tried=outcome.attempts)
                    return len(accepted), outcome.error
            return len(accepted), None
        finally:  # what went is recorded whatever happens next
            _record_sent(db, accepted, options)


def _release(db: Database, unsent: list[deliveries.Claim], error: str, tried: int = 0) -> None:
    """Claimed deliveries whose messages did not go: 待发送 again (the first one ``tried`` times)."""
    for index, claimed in enumerate(unsent):
        deliveries.record_deferred(
            db, delivery_id=claimed.delivery_id, attempts=tried if index == 0 else 0, error=error
        )


def _record_sent(db: Database, accepted: dict[int, int], options: MailOptions) -> None:
    """Record the messages the server accepted, waiting for a database that is down (the policy's
    ``record_waits``) for ``record_patience`` seconds at most: a claim left unrecorded stays uncertain
    until a person settles it."""
    deadline, waits = time.monotonic() + options.retry.record_patience, options.retry.record_waits()
    while True:
        try:
            deliveries.record_sent(db, attempts=accepted)
            return
        except ServiceUnavailable:
            wait = next(waits)
            if time.monotonic() + wait > deadline:
                raise
            options.sleep(wait)


def _stopped(
    db: Database, document_id: int, sent: int, error: DeliveryDeferred | ChannelRefused
) -> ServiceUnavailable | ChannelRefused:
    report = _report(db, document_id, None, sent)
    waiting = report.by_status.get(DeliveryStatus.PENDING.value, 0)
    progress = f"{error.message}。本次已发送 {sent} 份，尚有 {waiting} 份待发送；公文当前为{report.state.label}，"
    if isinstance(error, ChannelRefused):
        return ChannelRefused(f"{progress}请更正邮件设置后执行 gongwen distribute {document_id}", error.field)
    return ServiceUnavailable(f"{progress}请在邮件服务器恢复后执行 gongwen distribute {document_id}")


def _report(db: Database, document_id: int, state: State | None, sent: int) -> DispatchReport:
    with db.transaction() as session:
        rows = deliveries.outline(session, document_id=document_id)
        state = state or State(documents.get(session, document_id=document_id).state)
    return DispatchReport(
        document_id=document_id,
        state=state,
        sent_now=sent,
        by_status={s.value: n for s in DeliveryStatus if (n := sum(d.status == s.value for d in rows))},
        by_role={r.label: n for r in RecipientRole if (n := sum(r.value in d.roles for d in rows))},
        failed={d.recipient: d.last_error or "" for d in rows if d.status == DeliveryStatus.FAILED.value},
        uncertain=[d.recipient for d in rows if d.status == DeliveryStatus.PENDING.value and d.claimed_at],
    )


def settle(
    db: Database, settlement: deliveries.Settlement, *, now: dt.datetime | None = None
) -> tuple[Delivery, State]:
    """核实 an uncertain delivery (its recipient by full or short name): 已发送, or 待发送 again; and the document's state.

    Settled as sent, the last uncertain delivery may leave nothing waiting: the
    document then becomes 已核发.
    """
    settlement = dataclasses.replace(settlement, recipient=_full_name(db, settlement.recipient))
    delivery = deliveries.settle(db, settlement, grace=SETTLE_GRACE, now=now)
    return delivery, deliveries.finish(db, document_id=settlement.document_id)


def retry_failed(
    db: Database,
    channel: Channel,
    *,
    document_id: int,
    by: str,
    pin: str,
    options: MailOptions,
    store: ArchiveStore,
) -> tuple[list[deliveries.Reopened], DispatchReport]:
    """Send the 失败 deliveries again, once, to the addresses the directory gives now (after a 5xx refusal)."""
    reopened = deliveries.reopen_failed(db, document_id=document_id, by=by, pin=pin)
    return reopened, dispatch(db, channel, document_id=document_id, options=options, store=store)


def acknowledge_code(db: Database, *, code: str) -> Delivery:
    """签收 with the code from the message."""
    return deliveries.acknowledge(db, code=code)


def acknowledge_name(db: Database, *, document_id: int, recipient: str) -> Delivery:
    """签收 recorded by name (full or short name of the recipient)."""
    return deliveries.acknowledge(db, document_id=document_id, recipient=_full_name(db, recipient))


def _full_name(db: Database, recipient: str) -> str:
    """An agency's full name for its short name; any other name as given."""
    with db.transaction() as session:
        directory = load_directory(session)
    return directory.agency(recipient).name if directory.is_agency(recipient) else recipient


@dataclass(frozen=True)
class RemindReport:
    """What a 催办 run did, and every delivery still overdue."""

    reminded: list[Delivery]
    escalated: dict[str, list[str]]
    overdue: list[Delivery]


def remind(
    db: Database, channel: Channel, *, policy: ChasePolicy, options: MailOptions, now: dt.datetime
) -> RemindReport:
    """催办 each overdue delivery; 催办升级 to the issuer's office after ``policy.escalate_after`` reminders."""
    with db.transaction() as session:
        waiting = deliveries.unacknowledged(session)
        steps = {d.id: _chase(policy, d, now) for d in waiting}
        due = [d for d in waiting if steps[d.id] is not Chase.WAIT]
        heads = {d.document_id: documents.get(session, document_id=d.document_id) for d in due}
        directory = load_directory(session)
    offices = {document_id: _office(directory, document) for document_id, document in heads.items()}
    reminded, escalated = [], {}
    try:
        for delivery in (d for d in due if steps[d.id] is Chase.REMIND):
            head = letterhead(heads[delivery.document_id], options.sender)
            count = delivery.reminders + 1
            message = reminder_message(head, recipient_of(delivery), sent_on=delivery.sent_at.date(), count=count)
            _sent_or_raise(send_with_retries(channel, message, options))
            reminded.append(deliveries.record_reminder(db, delivery_id=delivery.id, at=now))
        for document_id, document in heads.items():
            late = [d for d in due if d.document_id == document_id and steps[d.id] is Chase.ESCALATE]
            if late:
                overdue = [Overdue(d.recipient, d.sent_at.date(), d.reminders) for d in late]
                office = offices[document_id]
                message = escalation_message(letterhead(document, options.sender), office, overdue=overdue)
                _sent_or_raise(send_with_retries(channel, message, options))
                for d in late:
                    deliveries.record_escalation(db, delivery_id=d.id, office=office.name, at=now)
                escalated[document.ref or str(document_id)] = [d.recipient for d in late]
    finally:
        channel.close()
    with db.transaction() as session:
        overdue = [d for d in deliveries.unacknowledged(session) if policy.overdue(d.sent_at, now)]
    return RemindReport(reminded, escalated, overdue)


def _chase(policy: ChasePolicy, delivery: Delivery, now: dt.datetime) -> Chase:
    return chase(
        policy,
        sent_at=delivery.sent_at,
        reminded_at=delivery.reminded_at,
        reminders=delivery.reminders,
        escalated=delivery.escalated_at is not None,
        now=now,
    )


def _office(directory: Directory, document: Document) -> Recipient:
    office = issuer_office(directory, document.issuers[0])
    if not office.email:
        raise InputError(f"「{office.name}」没有电子邮件地址，无法接收催办升级", "issuer")
    return Recipient(office.name, office.email, ())


def _sent_or_raise(outcome: Attempted) -> None:
    if outcome.error is not None:
        kind = ChannelRefused if isinstance(outcome.error, ChannelRefused) else ServiceUnavailable
        raise kind(
            f"催办未能全部发出：{outcome.error.message}；已发出的已记录，请稍后重新执行 gongwen remind",
            outcome.error.field,
        )
