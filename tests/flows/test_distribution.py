"""核发, 签收 and 催办 of the seed notice through a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections import Counter
from email.header import decode_header, make_header

import pytest

from flows.distribution import acknowledge_code, acknowledge_name, dispatch, remind
from models.directory import Directory
from models.distribution import ChasePolicy, DeliveryStatus, resolve_recipients
from models.errors import InputError, NotAllowed, ServiceUnavailable
from models.lifecycle import State
from storage import deliveries, documents
from storage.directory_store import save_directory
from storage.printing import printed_files
from tests.flows.dispatch_helpers import ack_code, archived_notice, by_address, channel, options
from tests.storage.helpers import audit_actions

TITLE = "关于印发《2022年开封市打击侵权假冒宣传工作实施方案》的通知"
REF = "汴打假〔2022〕3号"
#: A few recipients of the seed notice and the role(s) their message must name.
ROLES = {
    "gaj@kaifeng.example.cn": "主送",  # 市公安局, through 相关成员单位
    "djqqjm.lankao@kaifeng.example.cn": "主送",  # through 各县（区）打击侵权假冒工作领导小组
    "liuzhiqiang@kaifeng.example.cn": "抄报",  # 组长, a person, through the group of 组长、副组长
    "djqqjm-office@henan.example.cn": "抄报",  # 省打击侵权假冒工作领导小组办公室
    "zhengfu.qixian@kaifeng.example.cn": "抄送",  # through 各县（区）人民政府
}


@pytest.fixture
def archived(db, kaifeng, notice, pins, tmp_path):
    return db, archived_notice(db, kaifeng, notice, pins, tmp_path / "archive")


def raw_header(smtp, name: str) -> str:
    """A header of the last received message as sent (compat32 keeps the encoded-words)."""
    return email.message_from_bytes(smtp.recorder.received[-1][1], policy=email.policy.compat32)[name]


def state_of(db, document_id) -> State:
    with db.transaction() as session:
        return State(documents.get(session, document_id=document_id).state)


def statuses(db, document_id) -> Counter:
    with db.transaction() as session:
        return Counter(d.status for d in deliveries.of_document(session, document_id=document_id))


def test_the_seed_notice_goes_once_to_each_recipient_with_its_role_and_the_pdf(archived, smtp):
    db, document_id = archived
    report = dispatch(db, channel(smtp), document_id=document_id, options=options())
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


def test_the_docx_is_attached_when_asked_for(archived, smtp):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, options=options(attach_docx=True))
    with db.transaction() as session:
        docx = printed_files(session, document_id=document_id)["document.docx"].content
    for message in smtp.messages():
        files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
        assert files[f"{REF} {TITLE}.docx"] == docx and len(files) == 2


def test_a_rerun_after_success_sends_nothing(archived, smtp):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, options=options())
    again = dispatch(db, channel(smtp), document_id=document_id, options=options())
    assert (again.state, again.sent_now, len(smtp.recorder.received)) == (State.DISPATCHED, 0, 32)


def test_an_outage_is_retried_with_backoff_and_recovers_when_the_server_returns(archived, smtp):
    db, document_id = archived
    smtp.stop()
    delays: list[float] = []
    with pytest.raises(ServiceUnavailable, match="gongwen distribute"):
        dispatch(db, channel(smtp), document_id=document_id, options=options(delays))
    assert delays == [0.01, 0.02]  # three attempts, exponential backoff
    assert state_of(db, document_id) is State.ARCHIVED
    assert statuses(db, document_id) == {"pending": 32}
    assert "send_deferred" in audit_actions(db, document_id)

    def server_back(delay: float) -> None:  # the server comes back while dispatch waits to retry
        smtp.start()

    report = dispatch(db, channel(smtp), document_id=document_id, options=options(sleep=server_back))
    assert (report.state, report.sent_now, len(smtp.recorder.received)) == (State.DISPATCHED, 32, 32)


def test_a_server_busy_midway_leaves_the_rest_pending_and_nothing_is_sent_twice(archived, smtp):
    db, document_id = archived
    smtp.recorder.busy_after = 13  # 421 after thirteen messages, in the middle of the second batch of ten
    with pytest.raises(ServiceUnavailable, match="本次已发送 13 份，尚有 19 份待发送"):
        dispatch(db, channel(smtp), document_id=document_id, options=options())
    assert statuses(db, document_id) == {"sent": 13, "pending": 19}
    assert state_of(db, document_id) is State.ARCHIVED
    smtp.recorder.busy_after = None
    report = dispatch(db, channel(smtp), document_id=document_id, options=options())
    assert (report.state, report.sent_now, report.uncertain) == (State.DISPATCHED, 19, [])
    assert len(smtp.recipients()) == len(set(smtp.recipients())) == 32


def test_a_permanent_refusal_fails_that_delivery_and_the_others_are_sent(archived, smtp):
    db, document_id = archived
    smtp.recorder.refuse = {"gaj@kaifeng.example.cn"}
    report = dispatch(db, channel(smtp), document_id=document_id, options=options())
    assert report.state is State.DISPATCHED
    assert report.by_status == {"sent": 31, "failed": 1}
    assert list(report.failed) == ["开封市公安局"] and "550" in report.failed["开封市公安局"]
    assert "gaj@kaifeng.example.cn" not in smtp.recipients() and len(smtp.recipients()) == 31
    assert audit_actions(db, document_id).count("send_failed") == 1


def test_a_claim_without_an_outcome_is_never_sent_again(archived, smtp, kaifeng, notice):
    """A run that died after claiming a delivery (before or after sending it): no later run sends it."""
    db, document_id = archived
    recipients = resolve_recipients(kaifeng, to=notice.to, cc_report=notice.cc_report, cc=notice.cc)
    deliveries.plan(db, document_id=document_id, recipients=recipients)
    [crashed] = deliveries.claim(db, document_id=document_id, limit=1)
    report = dispatch(db, channel(smtp), document_id=document_id, options=options())
    assert report.uncertain == [crashed.delivery.recipient] and report.sent_now == 31
    assert crashed.delivery.address not in smtp.recipients()
    assert report.state is State.ARCHIVED  # a person settles the uncertain one first


def test_unknown_group_in_cc_stops_before_anything_is_sent_or_written(archived, smtp, kaifeng):
    db, document_id = archived
    without = Directory(kaifeng.agencies, kaifeng.people, [g for g in kaifeng.groups if g.name != "各县（区）人民政府"])
    with db.transaction() as session:
        save_directory(session, directory=without)
    with pytest.raises(InputError) as error:
        dispatch(db, channel(smtp), document_id=document_id, options=options())
    assert error.value.field == "cc[0]" and "各县（区）人民政府" in error.value.message
    assert smtp.recorder.received == []
    assert statuses(db, document_id) == {}
    assert state_of(db, document_id) is State.ARCHIVED


def test_ack_by_code_and_by_name_and_refusals(archived, smtp):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, options=options())
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


def test_reminders_go_only_to_the_unacknowledged_and_escalate_after_m(archived, smtp):
    db, document_id = archived
    dispatch(db, channel(smtp), document_id=document_id, options=options())
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
