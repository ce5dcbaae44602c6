"""核发, 签收 and 催办 of the seed notice through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from collections import Counter
from email.header import decode_header, make_header

import pytest
from sqlalchemy import text
from sqlmodel import select

from actions.distribution import acknowledge_code, acknowledge_name, dispatch, remind, retry_failed, settle
from delivery import SmtpChannel
from models.directory import Directory
from models.distribution import ChasePolicy, DeliveryStatus, resolve_recipients
from models.errors import ChannelRefused, InputError, NotAllowed, NotFound, ServiceUnavailable, VerificationFailed
from models.lifecycle import State
from models.tables import AuditEvent
from storage import archiving, audit_log, deliveries, documents
from storage.archive.local import LocalArchiveStore
from storage.database import Database
from storage.deliveries import Settlement
from storage.directory_store import save_directory
from storage.migrations import upgrade
from storage.printing import printed_files
from tests.flows.dispatch_helpers import SENDER, ack_code, archived_notice, by_address, channel, options, statuses
from tests.servers.postgres import PrivatePostgres, running_postgres
from tests.servers.smtp import SMTP_LOGIN
from tests.storage.archive.files import pdf_with
from tests.storage.helpers import audit_actions

TITLE = "关于印发《2022年开封市打击侵权假冒宣传工作实施方案》的通知"
REF = "汴打假〔2022〕3号"
REGISTRAR = "李红梅"  # holds the registrar role: 核发 is hers to correct
LATER = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # when a crashed run's claim is surely stale
#: A few recipients of the seed notice and the role(s) their message must name.
ROLES = {
    "gaj@kaifeng.example.cn": "主送",  # 市公安局, through 相关成员单位
    "djqqjm.lankao@kaifeng.example.cn": "主送",  # through 各县（区）打击侵权假冒工作领导小组
    "liuzhiqiang@kaifeng.example.cn": "抄报",  # 组长, a person, through the group of 组长、副组长
    "djqqjm-office@henan.example.cn": "抄报",  # 省打击侵权假冒工作领导小组办公室
    "zhengfu.qixian@kaifeng.example.cn": "抄送",  # through 各县（区）人民政府
}


def raw_header(smtp, name: str) -> str:
    """A header of the last received message as sent (compat32 keeps the encoded-words)."""
    return email.message_from_bytes(smtp.recorder.received[-1][1], policy=email.policy.compat32)[name]


def state_of(db, document_id) -> State:
    with db.transaction() as session:
        return State(documents.get(session, document_id=document_id).state)


def test_the_seed_notice_goes_once_to_each_recipient_with_its_role_and_the_pdf(archived, smtp, store):
    db, document_id = archived
    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert (report.state, report.sent_now) == (State.DISPATCHED, 32)
    assert report.by_role == {"主送": 20, "抄报": 3, "抄送": 9}
    assert sorted(smtp.recipients()) == sorted(set(smtp.recipients())) and len(smtp.recipients()) == 32
    with db.transaction() as session:
        pdf = printed_files(session, document_id=document_id)["document.pdf"].content
    messages = by_address(smtp.messages())
    for address, role in ROLES.items():
        message = messages[address]
        assert message["Subject"] == f"【{role}】{REF} {TITLE}"
        assert f"你单位为本文的{role}单位" in message.get_body(("plain",)).get_content()
    for message in messages.values():
        [attachment] = message.iter_attachments()
        assert attachment.get_filename() == f"{REF} {TITLE}.pdf"
        assert attachment.get_content() == pdf
    assert "=?utf-8?" in smtp.recorder.received[0][1].split(b"\r\n\r\n")[0].decode("ascii")  # RFC 2047 on the wire
    assert audit_actions(db, document_id)[-33:] == ["send"] * 32 + ["dispatch"]
    with db.transaction() as session:
        sends = [e for e in audit_log.trail(session, document_id=document_id) if e.action == "send"]
        assert audit_log.verify(session).ok  # the batches of send entries keep the chain whole
    assert {json.loads(e.detail)["address"] for e in sends} == set(smtp.recipients())
    assert json.loads(sends[0].detail)["attempts"] == 1 and json.loads(sends[0].detail)["roles"]


def test_the_docx_is_attached_when_asked_for(archived, smtp, store):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options(attach_docx=True))
    with db.transaction() as session:
        docx = printed_files(session, document_id=document_id)["document.docx"].content
        attached = [d.attached_sha256 for d in deliveries.of_document(session, document_id=document_id)]
    for message in smtp.messages():
        files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        assert files[f"{REF} {TITLE}.docx"] == docx and len(files) == 2
    assert len(attached) == 32 and {tuple(sorted(digests)) for digests in attached} == {
        ("document.docx", "document.pdf")
    }


def test_a_rerun_after_success_sends_nothing(archived, smtp, store):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    again = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert (again.state, again.sent_now, len(smtp.recorder.received)) == (State.DISPATCHED, 0, 32)


def test_an_outage_is_retried_with_backoff_and_recovers_when_the_server_returns(archived, smtp, store):
    db, document_id = archived
    smtp.stop()
    delays: list[float] = []
    with pytest.raises(ServiceUnavailable, match="gongwen distribute"):
        dispatch(db, channel(smtp), document_id=document_id, store=store, options=options(delays))
    assert delays == [0.01, 0.02]  # three attempts, exponential backoff
    assert state_of(db, document_id) is State.ARCHIVED
    assert statuses(db, document_id) == {"pending": 32}
    assert "send_deferred" in audit_actions(db, document_id)

    def server_back(delay: float) -> None:  # the server comes back while dispatch waits to retry
        smtp.start()

    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options(sleep=server_back))
    assert (report.state, report.sent_now, len(smtp.recorder.received)) == (State.DISPATCHED, 32, 32)
    with db.transaction() as session:
        rows = deliveries.of_document(session, document_id=document_id)
        details = [
            json.loads(e.detail) for e in audit_log.trail(session, document_id=document_id) if e.action == "send"
        ]
    assert [d.attempts for d in rows] == [5] + [1] * 31  # the first: 3 tries in the outage, 2 when it ended
    assert {d["recipient"]: d["attempts"] for d in details} == {d.recipient: d.attempts for d in rows}


def test_a_server_busy_midway_leaves_the_rest_pending_and_nothing_is_sent_twice(archived, smtp, store):
    db, document_id = archived
    smtp.recorder.busy_after = 13  # 421 after thirteen messages, in the middle of the second batch of ten
    with pytest.raises(ServiceUnavailable, match="本次已发送 13 份，尚有 19 份待发送"):
        dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert statuses(db, document_id) == {"sent": 13, "pending": 19}
    assert state_of(db, document_id) is State.ARCHIVED
    smtp.recorder.busy_after = None
    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert (report.state, report.sent_now, report.uncertain) == (State.DISPATCHED, 19, [])
    assert len(smtp.recipients()) == len(set(smtp.recipients())) == 32


def test_a_permanent_refusal_fails_that_delivery_and_the_others_are_sent(archived, smtp, store):
    db, document_id = archived
    smtp.recorder.refuse = {"gaj@kaifeng.example.cn"}
    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert report.state is State.DISPATCHED
    assert report.by_status == {"sent": 31, "failed": 1}
    assert list(report.failed) == ["开封市公安局"] and "550" in report.failed["开封市公安局"]
    assert "gaj@kaifeng.example.cn" not in smtp.recipients() and len(smtp.recipients()) == 31
    assert audit_actions(db, document_id).count("send_failed") == 1


def crashed_claim(db, document_id, kaifeng, notice) -> deliveries.Claim:
    """What a run leaves when it dies after claiming the first delivery and before recording it."""
    recipients = resolve_recipients(kaifeng, to=notice.to, cc_report=notice.cc_report, cc=notice.cc)
    deliveries.plan(db, document_id=document_id, recipients=recipients)
    [crashed] = deliveries.claim(db, document_id=document_id, limit=1, attached={})
    return crashed


def test_a_claim_without_an_outcome_is_never_sent_again(archived, smtp, kaifeng, notice, store):
    """A run that died after claiming a delivery (before or after sending it): no later run sends it."""
    db, document_id = archived
    crashed = crashed_claim(db, document_id, kaifeng, notice)
    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert report.uncertain == [crashed.recipient.name] and report.sent_now == 31
    assert crashed.recipient.address not in smtp.recipients()
    assert report.state is State.ARCHIVED  # a person settles the uncertain one first


def test_a_message_whose_answer_was_lost_stays_uncertain_and_is_never_sent_again(archived, smtp, store):
    """The server took the message and the connection dropped before its 250: it may have arrived."""
    db, document_id = archived
    lost = "gaj@kaifeng.example.cn"
    smtp.recorder.drop_after_data = {lost}
    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert len(report.uncertain) == 1 and report.sent_now == 31 and report.state is State.ARCHIVED
    smtp.recorder.drop_after_data = set()
    again = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert again.sent_now == 0 and again.uncertain == report.uncertain
    assert Counter(smtp.recipients()) == Counter(set(smtp.recipients())) and lost in smtp.recipients()


def last_audit(db, action: str) -> tuple[str, dict]:
    """Who made the last audit entry of ``action``, and its detail."""
    with db.transaction() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
        event = session.exec(query).first()
        return event.actor, json.loads(event.detail)


def test_an_uncertain_delivery_settled_as_unsent_goes_with_the_next_run(archived, smtp, kaifeng, notice, pins, store):
    db, document_id = archived
    crashed = crashed_claim(db, document_id, kaifeng, notice)
    name, address = crashed.recipient.name, crashed.recipient.address
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    unsent = Settlement(document_id, name, False, REGISTRAR, pins[REGISTRAR])
    with pytest.raises(NotAllowed, match="可能仍在发送中"):  # claimed a moment ago: maybe a run still sending
        settle(db, unsent)
    delivery, state = settle(db, unsent, now=LATER)
    assert (delivery.status, delivery.claimed_at, delivery.code_hash, state) == ("pending", None, None, State.ARCHIVED)
    assert last_audit(db, "settle") == (
        REGISTRAR,
        {
            "recipient": name,
            "address": address,
            "outcome": "unsent",
            "claimed_at": crashed.claimed_at.isoformat(),
        },
    )
    report = dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert (report.state, report.sent_now, report.uncertain) == (State.DISPATCHED, 1, [])
    assert smtp.recipients().count(address) == 1 and len(smtp.recipients()) == 32
    with pytest.raises(NotAllowed, match="签收码无效"):  # the code of the lost message was void
        acknowledge_code(db, code=crashed.code)
    assert acknowledge_code(db, code=ack_code(by_address(smtp.messages())[address])).recipient == name


def test_an_uncertain_delivery_settled_as_sent_completes_the_dispatch_and_keeps_its_code(
    archived, smtp, kaifeng, notice, pins, store
):
    db, document_id = archived
    crashed = crashed_claim(db, document_id, kaifeng, notice)
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    sent = Settlement(document_id, crashed.recipient.name, True, REGISTRAR, pins[REGISTRAR])
    delivery, state = settle(db, sent, now=LATER)
    assert (delivery.status, delivery.sent_at, delivery.claimed_at) == ("sent", crashed.claimed_at, None)
    assert state is State.DISPATCHED and state_of(db, document_id) is State.DISPATCHED
    assert dispatch(db, channel(smtp), document_id=document_id, store=store, options=options()).sent_now == 0
    assert crashed.recipient.address not in smtp.recipients()
    assert acknowledge_code(db, code=crashed.code).status == "acknowledged"  # the recipient holds that code
    assert last_audit(db, "settle")[1]["outcome"] == "sent"


def test_only_the_registrar_settles_and_only_an_uncertain_delivery(archived, smtp, kaifeng, notice, pins, store):
    db, document_id = archived
    crashed = crashed_claim(db, document_id, kaifeng, notice)
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())

    def attempt(recipient: str = crashed.recipient.name, by: str = REGISTRAR, pin: str = pins[REGISTRAR]):
        return settle(db, Settlement(document_id, recipient, True, by, pin), now=LATER)

    for refused, field, reason in [
        (lambda: attempt(pin=pins["陈立新"]), "pin", "PIN 不正确"),
        (lambda: attempt(by="郭佳佳", pin=pins["郭佳佳"]), "as", "「郭佳佳」没有核发权限"),
        (lambda: attempt("市商务局"), "recipient", "发给「开封市商务局」的公文已发送，发送状态并非不明"),
    ]:
        with pytest.raises(NotAllowed) as error:
            refused()
        assert (error.value.field, reason in error.value.message) == (field, True)
    with pytest.raises(NotFound) as error:
        attempt("开封市不存在局")
    assert (error.value.field, error.value.exit_code) == ("recipient", 2)
    attempt()
    with pytest.raises(NotAllowed, match="已发送") as again:
        attempt()
    actions = audit_actions(db, document_id)
    assert (actions.count("settle_refused"), actions.count("settle")) == (4, 1)  # the unknown name is bad input
    assert last_audit(db, "settle_refused") == (
        REGISTRAR,
        {"recipient": crashed.recipient.name, "outcome": "sent", "reason": again.value.message, "field": "recipient"},
    )


def with_address(directory: Directory, agency: str, address: str | None) -> Directory:
    agencies = [a.model_copy(update={"email": address}) if a.name == agency else a for a in directory.agencies]
    return Directory(agencies, directory.people, directory.groups)


def test_a_failed_delivery_is_sent_again_once_to_the_corrected_address(archived, smtp, kaifeng, pins, store):
    db, document_id = archived
    smtp.recorder.refuse = {"gaj@kaifeng.example.cn"}
    smtp.recorder.busy_after = 20  # then the server goes busy: the document stays 已归档
    with pytest.raises(ServiceUnavailable):
        dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert statuses(db, document_id) == {"sent": 20, "failed": 1, "pending": 11}
    smtp.recorder.busy_after = None

    def retry(pin: str = pins[REGISTRAR]):
        return retry_failed(
            db, channel(smtp), document_id=document_id, by=REGISTRAR, pin=pin, options=options(), store=store
        )

    with pytest.raises(NotAllowed, match="PIN 不正确"):
        retry(pins["郭佳佳"])
    with db.transaction() as session:
        save_directory(session, directory=with_address(kaifeng, "开封市公安局", None))
    with pytest.raises(InputError, match="「开封市公安局」没有电子邮件地址"):
        retry()
    assert statuses(db, document_id) == {"sent": 20, "failed": 1, "pending": 11}  # nothing changed
    with db.transaction() as session:
        save_directory(session, directory=with_address(kaifeng, "开封市公安局", "gongan@kaifeng.example.cn"))
    [reopened], report = retry()
    assert (reopened.delivery.recipient, reopened.previous_address, reopened.delivery.address) == (
        "开封市公安局",
        "gaj@kaifeng.example.cn",
        "gongan@kaifeng.example.cn",
    )
    assert "550" in reopened.previous_error
    assert (report.state, report.sent_now, report.by_status, report.failed) == (State.DISPATCHED, 12, {"sent": 32}, {})
    assert (
        smtp.recipients().count("gongan@kaifeng.example.cn") == 1 and "gaj@kaifeng.example.cn" not in smtp.recipients()
    )
    actor, detail = last_audit(db, "send_retry")
    assert (actor, detail["previous_address"], detail["address"]) == (
        REGISTRAR,
        "gaj@kaifeng.example.cn",
        "gongan@kaifeng.example.cn",
    )
    with pytest.raises(NotAllowed, match="没有发送失败的分发"):
        retry()
    assert audit_actions(db, document_id).count("retry_refused") == 2


def test_unknown_group_in_cc_stops_before_anything_is_sent_or_written(archived, smtp, kaifeng, store):
    db, document_id = archived
    without = Directory(kaifeng.agencies, kaifeng.people, [g for g in kaifeng.groups if g.name != "各县（区）人民政府"])
    with db.transaction() as session:
        save_directory(session, directory=without)
    with pytest.raises(InputError) as error:
        dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert error.value.field == "cc[0]" and "各县（区）人民政府" in error.value.message
    assert smtp.recorder.received == []
    assert statuses(db, document_id) == {}
    assert state_of(db, document_id) is State.ARCHIVED


def test_ack_by_code_and_by_name_and_refusals(archived, smtp, store):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    messages = by_address(smtp.messages())
    code = ack_code(messages["gaj@kaifeng.example.cn"])
    delivery = acknowledge_code(db, code=code)
    assert (delivery.recipient, delivery.status, delivery.acked_by) == ("开封市公安局", "acknowledged", "code")
    with pytest.raises(NotAllowed, match="不能重复签收"):
        acknowledge_code(db, code=code)
    with pytest.raises(NotAllowed, match="签收码无效"):
        acknowledge_code(db, code=code[:-1] + ("A" if code[-1] != "A" else "B"))
    delivery = acknowledge_name(db, document_id=document_id, recipient="市商务局")  # a short name
    assert (delivery.recipient, delivery.acked_by) == ("开封市商务局", "name")
    with pytest.raises(NotAllowed):
        acknowledge_name(db, document_id=document_id, recipient="开封市商务局")
    assert audit_actions(db).count("ack") == 2 and audit_actions(db).count("ack_refused") == 3
    assert statuses(db, document_id)[DeliveryStatus.ACKNOWLEDGED.value] == 2


def test_reminders_go_only_to_the_unacknowledged_and_escalate_after_m(archived, smtp, store):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    messages = by_address(smtp.messages())
    for address in ("gaj@kaifeng.example.cn", "liuzhiqiang@kaifeng.example.cn"):
        acknowledge_code(db, code=ack_code(messages[address]))
    smtp.recorder.received.clear()
    policy = ChasePolicy(remind_after=dt.timedelta(days=3), escalate_after=2)
    start = dt.datetime.now(dt.UTC)

    def run(days: float):
        return remind(db, channel(smtp), policy=policy, options=options(), now=start + dt.timedelta(days=days))

    early = run(1)
    assert (early.reminded, early.escalated, early.overdue, smtp.recorder.received) == ([], {}, [], [])
    first = run(3.5)
    assert len(first.reminded) == 30 and len(first.overdue) == 30
    reminded = set(smtp.recipients())
    assert len(reminded) == 30 and not reminded & {"gaj@kaifeng.example.cn", "liuzhiqiang@kaifeng.example.cn"}
    assert {m["Subject"] for m in smtp.messages()} == {f"【催办】{REF} {TITLE}"}
    assert run(4).reminded == []  # reminded half a day ago: not yet again
    assert len(run(7).reminded) == 30
    smtp.recorder.received.clear()
    escalation = run(10.5)
    assert escalation.reminded == [] and len(escalation.escalated[REF]) == 30
    [message] = smtp.messages()
    assert message["To"].addresses[0].addr_spec == "kfsfld@163.com"  # the issuer's office
    # (RFC 2047 decoding by decode_header: the structured parser of the stdlib adds a space between encoded-words)
    assert str(make_header(decode_header(raw_header(smtp, "To")))).startswith(
        "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室 <"
    )
    assert (
        message["Subject"].startswith("【催办升级】") and "开封市商务局" in message.get_body(("plain",)).get_content()
    )
    later = run(20)
    assert (later.reminded, later.escalated, len(later.overdue)) == ([], {}, 30)
    actions = audit_actions(db, document_id)
    assert (actions.count("remind"), actions.count("escalate")) == (60, 30)


def test_a_refused_login_stops_the_run_and_leaves_every_delivery_waiting(archived, smtp_tls, store):
    db, document_id = archived
    user, password = SMTP_LOGIN
    context = smtp_tls.certificates.client_context()

    def tls_channel(secret: str) -> SmtpChannel:
        return SmtpChannel(smtp_tls.host, smtp_tls.port, smtp_tls.security, user, secret, SENDER, 5, context)

    delays: list[float] = []
    with pytest.raises(ChannelRefused, match="请更正邮件设置") as error:
        dispatch(db, tls_channel("wrong"), document_id=document_id, store=store, options=options(delays))
    assert (error.value.field, delays) == ("credentials", [])  # not retried: waiting would not help
    assert statuses(db, document_id) == {"pending": 32} and state_of(db, document_id) is State.ARCHIVED
    report = dispatch(db, tls_channel(password), document_id=document_id, store=store, options=options())
    assert (report.state, report.sent_now, report.uncertain) == (State.DISPATCHED, 32, [])  # no claim was left
    assert len(smtp_tls.recipients()) == 32 and all(smtp_tls.recorder.tls)


class CrashingDatabase:
    """The SMTP channel, with the database crashing right after the server accepted the ``after``-th message."""

    connections = 1

    def __init__(self, inner: SmtpChannel, postgres: PrivatePostgres, after: int) -> None:
        self.inner, self.postgres, self.after, self.sent = inner, postgres, after, 0

    def send(self, message) -> None:
        self.inner.send(message)
        self.sent += 1
        if self.sent == self.after:
            self.postgres.crash()

    def close(self) -> None:
        self.inner.close()


def test_messages_accepted_while_the_database_is_down_are_recorded_once_it_is_back(
    smtp, kaifeng, notice, pins, tmp_path, store
):
    """The database crashes mid-batch: the run waits for it to record what went, so no delivery is left
    uncertain, the document is 已核发 and each recipient got one message."""
    with running_postgres() as postgres:
        db = Database.from_url(postgres.url)
        upgrade(db.engine)
        document_id = archived_notice(db, kaifeng, notice, pins, tmp_path / "archive")
        waited = []

        def wait(seconds: float) -> None:  # the database is back after the first wait
            waited.append(seconds)
            if not postgres.up:
                postgres.start()

        crashing = CrashingDatabase(channel(smtp), postgres, after=3)
        report = dispatch(db, crashing, document_id=document_id, store=store, options=options(sleep=wait))
        assert waited and report.state is State.DISPATCHED and report.uncertain == []
        assert statuses(db, document_id) == {DeliveryStatus.SENT.value: 32}
        assert Counter(Counter(smtp.recipients()).values()) == {1: 32}
        db.dispose()


def archived_file(db, store: LocalArchiveStore, document_id: int, name: str) -> tuple[bytes, str]:
    """A file of the document's package as archived, and its SHA-256 in the manifest."""
    with db.transaction() as session:
        record = archiving.find_record(session, document_id=document_id)
    manifest = json.loads(store.get(f"{record.prefix}/manifest.json", record.versions["manifest.json"]))
    [listed] = [entry["sha256"] for entry in manifest["files"] if entry["name"] == name]
    return store.get(f"{record.prefix}/{name}", record.versions[name]), listed


def test_what_is_sent_is_read_from_the_archive_not_the_printed_files_row(archived, smtp, store):
    """The printed PDF replaced in the database after 归档: every recipient still gets the archived one, and
    each delivery records its SHA-256."""
    db, document_id = archived
    pdf, listed = archived_file(db, store, document_id, "document.pdf")
    with db.transaction() as session:
        session.execute(
            text("UPDATE printed_files SET content = :forged WHERE document_id = :doc AND name = 'document.pdf'"),
            {"forged": pdf_with("Forged"), "doc": document_id},
        )
    assert dispatch(db, channel(smtp), document_id=document_id, store=store, options=options()).sent_now == 32
    for message in smtp.messages():
        [attachment] = message.iter_attachments()
        assert attachment.get_content() == pdf
    with db.transaction() as session:
        rows = deliveries.of_document(session, document_id=document_id)
    assert len(rows) == 32 and all(row.attached_sha256 == {"document.pdf": listed} for row in rows)


def test_an_archived_file_unlike_its_manifest_stops_the_dispatch_before_anything_is_sent(archived, smtp, store):
    db, document_id = archived
    with db.transaction() as session:
        record = archiving.find_record(session, document_id=document_id)
    data = store.root / "objects" / record.prefix / "document.pdf" / record.versions["document.pdf"]
    data.chmod(0o644)
    data.write_bytes(data.read_bytes() + b"%forged")
    with pytest.raises(VerificationFailed) as stopped:
        dispatch(db, channel(smtp), document_id=document_id, store=store, options=options())
    assert REF in stopped.value.message and "document.pdf 与清单不符" in stopped.value.message
    assert stopped.value.exit_code == 1
    assert smtp.recipients() == [] and statuses(db, document_id) == Counter()
    assert state_of(db, document_id) is State.ARCHIVED
    with db.transaction() as session:
        refusals = [e for e in audit_log.trail(session, document_id=document_id) if e.action == "dispatch_refused"]
    assert [json.loads(e.detail)["reason"] for e in refusals] == [stopped.value.message]
