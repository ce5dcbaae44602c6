"""门户签章 (models.stamps): a stamp passes only for its own person, target and content, fresh."""

from __future__ import annotations

import pytest

from models import stamps
from models.errors import RefusedDecision

KEY = bytes(range(32))
ANSWER = {"verdict": "同意", "opinion": "同意印发"}
TARGET = stamps.answer_target("2b7c…", "answer-3")
NOW = 1_800_000_000.0


def _stamp(**overrides):
    options = {"person": "陈立新", "target": TARGET, "content": ANSWER, "at": NOW} | overrides
    return stamps.sign(KEY, **options)


def test_a_stamp_passes_for_its_person_target_and_content() -> None:
    verified = stamps.verify(KEY, _stamp(), target=TARGET, content=dict(reversed(ANSWER.items())), now=NOW + 5)
    assert (verified.person, verified.target) == ("陈立新", TARGET) and len(verified.nonce) == 32


@pytest.mark.parametrize(
    ("check", "why"),
    [
        ({"content": {**ANSWER, "verdict": "退回修改"}}, "无效"),  # the answer altered
        ({"target": stamps.answer_target("2b7c…", "answer-4")}, "无效"),  # replayed onto the next form
        ({"key": bytes(32)}, "无效"),  # made with another key (not the gateway's)
        ({"now": NOW + stamps.MAX_AGE + 1}, "过期"),
        ({"now": NOW - stamps.SKEW - 1}, "过期"),  # from the future
    ],
)
def test_a_stamp_is_refused_when_anything_differs(check: dict, why: str) -> None:
    options = {"key": KEY, "target": TARGET, "content": ANSWER, "now": NOW} | check
    with pytest.raises(RefusedDecision, match=why) as refused:
        stamps.verify(options.pop("key"), _stamp(), **options)
    assert refused.value.field == stamps.FIELD


def test_a_stamp_with_another_person_put_in_does_not_pass() -> None:
    forged = _stamp() | {"person": "刘志强"}
    with pytest.raises(RefusedDecision, match="无效"):
        stamps.verify(KEY, forged, target=TARGET, content=ANSWER, now=NOW)


@pytest.mark.parametrize(
    "stamp", [None, "stamp", {"person": "陈立新"}, {"person": "x", "at": "soon", "nonce": "n", "mac": "m"}]
)
def test_no_stamp_or_a_malformed_one_is_refused(stamp: object) -> None:
    with pytest.raises(RefusedDecision):
        stamps.verify(KEY, stamp, target=TARGET, content=ANSWER, now=NOW)
