"""知悉范围 (models.document_readers): who may open a document's files through a download link."""

from __future__ import annotations

import pytest

from models.directory import Directory
from models.document_readers import check_reader
from models.errors import RefusedDecision
from models.tables import DocumentContent

NOTICE = DocumentContent(
    doc_type="通知",
    issuers=["开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"],
    title="关于开展专项行动的通知",
    to=["市打击侵权假冒工作领导小组相关成员单位"],
    cc=["开封海关", "不在目录中的单位"],
    body="正文",
    retention="30年",
    review=["李红梅"],
    cosign=["赵丽"],
    sign="陈立新",
)


@pytest.mark.parametrize(
    "name",
    [
        "郭佳佳",  # the drafter
        "李红梅",  # 核稿 (and a registrar)
        "赵丽",  # 会签
        "陈立新",  # 签发
        "孙敏",  # an auditor
        "王强",  # of 开封市公安局, one of the 主送 group's agencies
    ],
)
def test_the_route_registrars_recipients_and_auditors_may_read(kaifeng: Directory, name: str) -> None:
    person = kaifeng.person(name)
    assert check_reader(kaifeng, person, NOTICE, "郭佳佳") is person


@pytest.mark.parametrize("name", ["张伟", "刘志强"])  # a reviewer and a signer of other documents
def test_anyone_else_is_refused(kaifeng: Directory, name: str) -> None:
    with pytest.raises(RefusedDecision, match=f"「{name}」不在本文的知悉范围内"):
        check_reader(kaifeng, kaifeng.person(name), NOTICE, "郭佳佳")


def test_a_person_named_as_recipient_may_read(kaifeng: Directory) -> None:
    to_leaders = NOTICE.model_copy(update={"cc": ["市打击侵权假冒工作领导小组组长、副组长"]})
    assert check_reader(kaifeng, kaifeng.person("刘志强"), to_leaders, "郭佳佳").name == "刘志强"
