"""核发 over several SMTP connections at once (GONGWEN_MAIL_CONNECTIONS): each recipient gets exactly one
message, never more connections than the setting, a dropped connection is tried again on a fresh one, a
rerun sends only what is left; and the same to a real MTA (a private Postfix delivering to a Maildir)."""

from __future__ import annotations

from collections import Counter

import pytest

from actions.distribution import dispatch
from models.distribution import DeliveryStatus, resolve_recipients
from models.errors import ServiceUnavailable
from models.lifecycle import State
from storage import deliveries
from tests.flows.dispatch_helpers import channel, options, statuses
from tests.servers.postfix import postfix_missing, running_postfix
from tests.servers.requirements import need

RECIPIENTS = 32  # of the seed notice: 主送, 抄报 and 抄送 expanded through the directory


def test_four_connections_send_each_recipient_one_message_and_are_reused(archived, smtp, store):
    db, document_id = archived
    report = dispatch(db, channel(smtp, 4), document_id=document_id, store=store, options=options(batch=2))
    assert (report.state, report.sent_now, report.uncertain) == (State.DISPATCHED, RECIPIENTS, [])
    assert Counter(Counter(smtp.recipients()).values()) == {1: RECIPIENTS}  # every one once, none twice
    assert statuses(db, document_id) == {DeliveryStatus.SENT.value: RECIPIENTS}
    assert smtp.recorder.most_sessions <= 4 and smtp.recorder.greeted <= 4  # 16 batches over ≤ 4 connections


@pytest.mark.parametrize("connections", [1, 2, 3])
def test_never_more_connections_at_once_than_the_setting(archived, smtp, store, connections):
    db, document_id = archived
    dispatch(db, channel(smtp, connections), document_id=document_id, store=store, options=options(batch=1))
    assert len(smtp.recipients()) == RECIPIENTS
    assert 1 <= smtp.recorder.most_sessions <= connections and smtp.recorder.greeted <= connections


def test_connections_dropped_mid_batch_are_tried_again_on_fresh_ones_without_duplicates(
    archived, smtp, store, kaifeng, notice
):
    db, document_id = archived
    recipients = resolve_recipients(kaifeng, to=notice.to, cc_report=notice.cc_report, cc=notice.cc)
    dropped = {r.address for r in recipients[1::5]}  # one in five, in every sender's batches
    smtp.recorder.drop_once_at_rcpt = set(dropped)
    delays: list[float] = []
    report = dispatch(db, channel(smtp, 4), document_id=document_id, store=store, options=options(delays, batch=3))
    assert (report.state, report.sent_now, report.uncertain) == (State.DISPATCHED, RECIPIENTS, [])
    assert Counter(Counter(smtp.recipients()).values()) == {1: RECIPIENTS}
    assert smtp.recorder.drop_once_at_rcpt == set() and delays == [0.01] * len(dropped)  # each tried once more
    assert smtp.recorder.greeted <= 4 + len(dropped)  # a fresh connection for each one dropped
    with db.transaction() as session:
        attempts = {d.address: d.attempts for d in deliveries.of_document(session, document_id=document_id)}
    assert {a for a, n in attempts.items() if n == 2} == dropped and set(attempts.values()) == {1, 2}


def test_a_rerun_after_a_partial_parallel_dispatch_sends_only_the_rest(archived, smtp, store):
    """The server answers 421 after some messages: the senders stop, what they claimed and did not send is
    待发送 again (none left uncertain), and the next run sends exactly those."""
    db, document_id = archived
    smtp.recorder.busy_after = 11
    with pytest.raises(ServiceUnavailable, match="请在邮件服务器恢复后执行 gongwen distribute"):
        dispatch(db, channel(smtp, 4), document_id=document_id, store=store, options=options(batch=3))
    first = Counter(smtp.recipients())
    counts = statuses(db, document_id)
    assert counts[DeliveryStatus.SENT.value] == len(first) >= 11 and set(first.values()) == {1}
    assert counts[DeliveryStatus.PENDING.value] == RECIPIENTS - len(first)
    with db.transaction() as session:
        assert [d for d in deliveries.of_document(session, document_id=document_id) if d.claimed_at] == []
    smtp.recorder.busy_after = None
    report = dispatch(db, channel(smtp, 4), document_id=document_id, store=store, options=options(batch=3))
    assert (report.state, report.sent_now) == (State.DISPATCHED, RECIPIENTS - len(first))
    assert Counter(Counter(smtp.recipients()).values()) == {1: RECIPIENTS}


def test_parallel_dispatch_to_postfix_delivers_one_maildir_file_per_recipient(archived, store):
    """A real MTA: Postfix from Debian, a private instance on 127.0.0.1 delivering to a Maildir."""
    need(postfix_missing())
    db, document_id = archived
    with running_postfix() as postfix:
        report = dispatch(db, channel(postfix, 4), document_id=document_id, store=store, options=options())
        assert (report.state, report.sent_now) == (State.DISPATCHED, RECIPIENTS)
        files = postfix.wait_delivered(RECIPIENTS)
        assert len(files) == RECIPIENTS  # (wait_delivered returns at RECIPIENTS or more: no second copy)
        delivered = {_delivered_to(file.read_bytes()) for file in files}
    with db.transaction() as session:
        planned = {d.address for d in deliveries.of_document(session, document_id=document_id)}
    assert delivered == planned and len(planned) == RECIPIENTS


def _delivered_to(data: bytes) -> str:
    """The envelope recipient Postfix's virtual agent writes at the top of a Maildir file (Delivered-To)."""
    head = data.split(b"\n\n", 1)[0].decode("ascii", "replace")
    return next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.startswith("Delivered-To:"))
