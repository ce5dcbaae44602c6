"""核发 rules: recipients resolved with merged roles, bad recipients named, 催办 decisions, 签收码."""

from __future__ import annotations

import datetime as dt

import pytest

from models.directory import Agency, Directory
from models.distribution import (
    Chase,
    ChasePolicy,
    RecipientRole,
    ack_code_hash,
    address_of,
    chase,
    issuer_office,
    new_ack_code,
    resolve_recipients,
)
from models.errors import InputError, NotFound

TO, CC_REPORT, CC = RecipientRole.TO, RecipientRole.CC_REPORT, RecipientRole.CC
LG = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"


def seed_recipients(kaifeng, notice, **changes):
    lists = {"to": notice.to, "cc_report": notice.cc_report, "cc": notice.cc, **changes}
    return {r.name: r for r in resolve_recipients(kaifeng, **lists)}


def test_the_seed_notice_reaches_32_recipients_with_their_roles(kaifeng, notice):
    recipients = seed_recipients(kaifeng, notice)
    assert len(recipients) == 32
    assert recipients["开封市公安局"].roles == (TO,) and recipients["开封市公安局"].address == "gaj@kaifeng.example.cn"
    assert recipients["刘志强"].roles == (CC_REPORT,)  # a person, through the group of 组长、副组长
    assert recipients["河南省打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"].roles == (CC_REPORT,)
    assert recipients["杞县人民政府"].roles == (CC,)


def test_a_recipient_reached_through_several_lists_is_one_recipient_with_every_role(kaifeng, notice):
    recipients = seed_recipients(kaifeng, notice, cc=["各县（区）人民政府", "市公安局", "陈立新"])
    assert len(recipients) == 32
    assert recipients["开封市公安局"].roles == (TO, CC)
    assert recipients["陈立新"].roles == (CC_REPORT, CC)


def test_an_unknown_group_is_named_by_its_field(kaifeng, notice):
    with pytest.raises(InputError) as error:
        seed_recipients(kaifeng, notice, cc=["各县（区）人民政府", "各乡镇人民政府"])
    assert error.value.field == "cc[1]" and "各乡镇人民政府" in error.value.message


def test_a_recipient_without_an_address_is_named(kaifeng, notice):
    agencies = [a.model_copy(update={"email": None}) if a.name == "开封海关" else a for a in kaifeng.agencies]
    directory = Directory(agencies, kaifeng.people, kaifeng.groups)
    with pytest.raises(InputError) as error:
        resolve_recipients(directory, to=notice.to, cc_report=[], cc=[])
    assert error.value.field == "to[0]" and "开封海关" in error.value.message


def test_the_current_address_of_an_agency_or_a_person(kaifeng):
    assert address_of(kaifeng, "开封市公安局") == "gaj@kaifeng.example.cn"
    assert address_of(kaifeng, "刘志强") == "liuzhiqiang@kaifeng.example.cn"
    with pytest.raises(NotFound) as error:
        address_of(kaifeng, "开封市不存在局")
    assert error.value.field == "recipient" and "开封市不存在局" in error.value.message
    agencies = [a.model_copy(update={"email": None}) if a.name == "开封海关" else a for a in kaifeng.agencies]
    with pytest.raises(InputError, match="「开封海关」没有电子邮件地址，无法分发$"):
        address_of(Directory(agencies, kaifeng.people, kaifeng.groups), "开封海关")


def test_escalations_go_to_the_issuers_office_else_to_the_issuer(kaifeng):
    assert issuer_office(kaifeng, LG).name == LG + "办公室"
    assert issuer_office(kaifeng, "市打击侵权假冒工作领导小组").name == LG + "办公室"  # by short name too
    alone = Directory([Agency(name="开封市人民政府", email="zf@kaifeng.example.cn")], [], [])
    assert issuer_office(alone, "开封市人民政府").name == "开封市人民政府"


SENT = dt.datetime(2022, 5, 4, 9, 0, tzinfo=dt.UTC)
POLICY = ChasePolicy(remind_after=dt.timedelta(days=3), escalate_after=2)


@pytest.mark.parametrize(
    ("days", "reminded_days", "reminders", "escalated", "expected"),
    [
        (2.9, None, 0, False, Chase.WAIT),  # not yet overdue
        (3, None, 0, False, Chase.REMIND),  # overdue: first reminder
        (5, 3, 1, False, Chase.WAIT),  # reminded two days ago
        (6, 3, 1, False, Chase.REMIND),  # second reminder
        (9, 6, 2, False, Chase.ESCALATE),  # M = 2 reminders went unanswered
        (30, 6, 2, True, Chase.WAIT),  # escalated once; only listed from now on
    ],
)
def test_chase_decides_by_dates_and_counts(days, reminded_days, reminders, escalated, expected):
    reminded_at = SENT + dt.timedelta(days=reminded_days) if reminded_days is not None else None
    now = SENT + dt.timedelta(days=days)
    decision = chase(POLICY, sent_at=SENT, reminded_at=reminded_at, reminders=reminders, escalated=escalated, now=now)
    assert decision is expected


def test_ack_codes_are_random_and_kept_as_their_hash():
    codes = {new_ack_code() for _ in range(100)}
    assert len(codes) == 100
    code, code_hash = next(iter(codes))
    assert len(code) >= 22 and code not in code_hash
    assert ack_code_hash(code) == code_hash == ack_code_hash(f" {code}\n")
