"""签发内容: the canonical bytes and digests of a document's content as signed (models.signed_content)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from types import SimpleNamespace

import pytest

from models.errors import VerificationFailed
from models.signed_content import (
    CONTENT_FIELDS,
    FORMAT,
    LEGACY,
    canonical_content,
    check_unchanged,
    content_digest,
    content_of_row,
)


def content(**changes) -> dict:
    """A document's content as stored: every 要素 (with an 附件 holding a table, and an 印发件) and its route."""
    base = {
        "doc_type": "通知",
        "issuers": ["开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"],
        "title": "关于印发《2022年开封市打击侵权假冒宣传工作实施方案》的通知",
        "to": ["市打击侵权假冒工作领导小组相关成员单位", "各县（区）打击侵权假冒工作领导小组"],
        "body": "现将《2022年开封市打击侵权假冒宣传工作实施方案》印发给你们，请认真贯彻落实。",
        "attachments": [
            {
                "title": "统计表",
                "body": "各单位报送情况如下。",
                "table": {"columns": ["单位", "篇数"], "rows": [["市公安局", "3"]]},
            },
            {"title": "联系人名单", "body": "郭佳佳", "table": None},
        ],
        "enclosure": {"title": "实施方案", "body": "一、总体要求", "table": None},
        "note": "此件公开发布",
        "date": dt.date(2022, 4, 29),
        "cc_report": ["省打击侵权假冒工作领导小组办公室"],
        "cc": ["各县（区）人民政府"],
        "printer": "开封市打击侵权假冒工作领导小组办公室",
        "print_date": dt.date(2022, 4, 29),
        "copy_no": None,
        "secret": None,
        "secret_term": None,
        "urgency": None,
        "retention": "30年",
        "review": ["李红梅"],
        "cosign": ["王建国", "张伟"],
        "sign": "陈立新",
    }
    return {**base, **changes}


def reordered(value):
    """The same value with every mapping's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


def test_the_content_covers_every_element_and_the_route():
    assert set(CONTENT_FIELDS) == set(content())
    written = json.loads(canonical_content(content()))
    assert written["format"] == FORMAT
    assert written["route"] == {"review": ["李红梅"], "cosign": ["王建国", "张伟"], "sign": "陈立新"}
    assert written["elements"]["attachments"][0]["table"]["rows"] == [["市公安局", "3"]]
    assert written["elements"]["date"] == "2022-04-29"
    assert "sign" not in written["elements"]


def test_the_same_content_gives_the_same_bytes_whatever_the_key_order():
    plain = content()
    shuffled = reordered(plain)
    assert list(shuffled) != list(plain)
    assert list(shuffled["attachments"][0]) != list(plain["attachments"][0])
    assert canonical_content(shuffled) == canonical_content(plain)
    assert content_digest(shuffled) == content_digest(plain)


def test_a_row_read_through_any_driver_gives_the_same_digest():
    """Dates as date objects (SQLAlchemy) or ISO text, lists or tuples; columns that are not content ignored."""
    row = SimpleNamespace(**content(), id=7, state="signed", ref=None, version=2)
    as_text = content(date="2022-04-29", print_date="2022-04-29", cosign=("王建国", "张伟"))
    assert content_digest(content_of_row(row)) == content_digest(content()) == content_digest(as_text)


def test_the_digests_are_sha256_and_sm3_of_the_canonical_bytes():
    data = canonical_content(content())
    digest = content_digest(content())
    assert digest.sha256 == hashlib.sha256(data).hexdigest()
    assert digest.sm3 == hashlib.new("sm3", data).hexdigest()
    assert digest.sm3 != digest.sha256 and len(digest.sm3) == 64
    assert digest.as_detail() == {"content_sha256": digest.sha256, "content_sm3": digest.sm3}


CHANGES = {
    "正文 (one character)": {"body": content()["body"].replace("认真", "认 真")},
    "标题": {"title": "关于印发实施方案的通知"},
    "附件 body": {
        "attachments": [{**content()["attachments"][0], "body": "各单位报送情况如下"}, content()["attachments"][1]]
    },
    "附件 title": {"attachments": [content()["attachments"][0], {**content()["attachments"][1], "title": "名单"}]},
    "附件 table cell": {
        "attachments": [
            {**content()["attachments"][0], "table": {"columns": ["单位", "篇数"], "rows": [["市公安局", "4"]]}},
            content()["attachments"][1],
        ]
    },
    "附件 removed": {"attachments": content()["attachments"][:1]},
    "附件 order": {"attachments": content()["attachments"][::-1]},
    "印发件": {"enclosure": {"title": "实施方案", "body": "一、总体要求。", "table": None}},
    "主送": {"to": ["市打击侵权假冒工作领导小组相关成员单位"]},
    "抄送": {"cc": []},
    "成文日期": {"date": dt.date(2022, 4, 30)},
    "密级": {"secret": "秘密"},
    "份号": {"copy_no": 1},
    "保管期限": {"retention": "永久"},
    "签发人": {"sign": "李红梅"},
    "核稿": {"review": []},
    "会签 order": {"cosign": ["张伟", "王建国"]},
    "a 要素 moved into the route": {"review": ["李红梅", "陈立新"], "sign": ""},
}


@pytest.mark.parametrize("changes", CHANGES.values(), ids=CHANGES)
def test_any_change_of_the_content_or_the_route_changes_the_digest(changes):
    before, after = content_digest(content()), content_digest(content(**changes))
    assert after.sha256 != before.sha256 and after.sm3 != before.sm3


def test_a_missing_field_is_an_error_not_a_digest():
    incomplete = content()
    del incomplete["attachments"]
    with pytest.raises(KeyError):
        canonical_content(incomplete)


def test_check_unchanged_passes_the_signed_content_and_records_its_digests():
    signed = content_digest(content())
    assert check_unchanged(content(), signed.sha256, step="登记", document_id=7) == signed.as_detail()


def test_check_unchanged_refuses_another_content_naming_the_document_and_its_number():
    signed = content_digest(content())
    with pytest.raises(VerificationFailed) as refused:
        check_unchanged(content(body="另一个正文"), signed.sha256, step="印制", document_id=7, ref="汴打假〔2022〕3号")
    assert refused.value.exit_code == 1 and refused.value.field == "content"
    assert "公文 7（汴打假〔2022〕3号）" in refused.value.message and "拒绝印制" in refused.value.message
    assert signed.sha256 in refused.value.message


def test_check_unchanged_records_an_early_signature_as_legacy():
    """签发 before digests were recorded: nothing to check against, and the entry says so."""
    detail = check_unchanged(content(body="任何内容"), None, step="登记", document_id=7)
    assert detail == {**content_digest(content(body="任何内容")).as_detail(), "signed_content": LEGACY}
