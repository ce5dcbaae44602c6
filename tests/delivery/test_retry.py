"""核发的重试 (delivery.retry): exactly ``attempts`` tries per message with the stated waits, one try for a
permanent refusal, and no setting under which a claim outlives the registrar's 核实 grace."""

from __future__ import annotations

import pytest

from delivery.retry import CLAIM_BATCH, SETTLE_GRACE, RetryPolicy
from models.errors import ChannelRefused, DeliveryDeferred, DeliveryRejected, DeliveryUncertain
from tests.flows.dispatch_helpers import Refusing, bare_message


@pytest.mark.parametrize(
    ("attempts", "backoff", "waits"), [(1, 1.0, []), (3, 1.0, [1.0, 2.0]), (5, 0.5, [0.5, 1, 2, 4])]
)
def test_a_message_always_deferred_is_tried_exactly_attempts_times_with_doubling_waits(attempts, backoff, waits):
    policy = RetryPolicy(attempts=attempts, backoff=backoff)
    channel, slept = Refusing(DeliveryDeferred("421 服务暂不可用")), []
    outcome = policy.send(channel, bare_message(), slept.append)
    assert channel.tries == outcome.attempts == attempts
    assert isinstance(outcome.error, DeliveryDeferred)
    assert slept == waits == list(policy.waits())


def test_a_message_that_goes_on_its_last_try_counts_every_try():
    channel, slept = Refusing(DeliveryDeferred("451"), succeed_on=3), []
    outcome = RetryPolicy().send(channel, bare_message(), slept.append)
    assert (outcome.attempts, outcome.error, slept) == (3, None, [1.0, 2.0])


@pytest.mark.parametrize(
    "error",
    [
        DeliveryRejected("550 用户不存在"),
        ChannelRefused("535 认证失败", "credentials"),
        DeliveryUncertain("收完邮件后断开"),
    ],
)
def test_a_permanent_refusal_a_refused_channel_or_a_maybe_delivered_message_is_tried_once(error):
    channel, slept = Refusing(error), []
    outcome = RetryPolicy(attempts=5).send(channel, bare_message(), slept.append)
    assert (channel.tries, outcome.attempts, outcome.error, slept) == (1, 1, error, [])


def test_the_worst_case_of_the_defaults_is_the_one_the_policy_states():
    policy = RetryPolicy()
    assert policy.longest_send() == 3 * 30 + 1 + 2 == 93
    assert policy.longest_claim() == CLAIM_BATCH * 93 + 600 == 1530 < SETTLE_GRACE.total_seconds()
    policy.check()  # the defaults are within the grace


def test_the_waits_to_record_double_from_the_backoff_up_to_ten_seconds():
    waits = RetryPolicy(backoff=1.0).record_waits()
    assert [next(waits) for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    assert next(RetryPolicy(backoff=0).record_waits()) == 0.1


def test_a_policy_under_which_a_claim_could_outlive_the_grace_is_refused():
    with pytest.raises(ValueError, match="核实期限"):
        RetryPolicy(attempts=4).check()  # 10 × (4 × 30 + 7) + 600 = 1870 s ≥ 1800 s
    RetryPolicy(attempts=4, record_patience=300).check()  # 1570 s


def test_a_policy_without_a_try_is_refused():
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
