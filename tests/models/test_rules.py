"""条例 rules of models/rules.py: a passing and a failing case each, asserting the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from models.directory import Directory
from models.errors import InputError, NotFound, RefusedDecision
from models.lifecycle import Route
from models.rules import check_spec, direction, draft_terms, lead_code, route_for
from models.spec import DocumentSpec, parse_spec
from models.vocabulary import DIRECTIONS, Direction, DocType

LG = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"  # level 1, code 汴打假, parent PROV
LG_SHORT = "市打击侵权假冒工作领导小组"
OFFICE = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"  # level 2, code 汴打假办
PROV = "省打击侵权假冒工作领导小组办公室"  # level 0 (short name)
GOV = "开封市人民政府"  # level 0, no code
PSB = "开封市公安局"  # level 1 (parent GOV), no code
XCB = "中共开封市委宣传部"  # level 0
QX = "杞县打击侵权假冒工作领导小组"  # level 2, parent LG
TX = "通许县打击侵权假冒工作领导小组"  # level 2, parent LG
COUNTY_GROUPS = "各县（区）打击侵权假冒工作领导小组"  # group of 9 subordinates of LG
COUNTY_GOVS = "各县（区）人民政府"  # group; parent GOV, not subordinates of LG
LEADERS = "市打击侵权假冒工作领导小组组长、副组长"  # group of two people

SIGN_ONLY = {"review": ["李红梅"], "sign": "陈立新"}

Make = Callable[..., DocumentSpec]


def _fails(spec: DocumentSpec, directory: Directory, field: str, *parts: str, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as info:
        check_spec(spec, directory, **kwargs)
    assert info.value.field == field, (info.value.field, info.value.message)
    for part in parts:
        assert part in info.value.message, (part, info.value.message)
    return info.value


def _upward(make: Make, doc_type: str = "报告", **changes: Any) -> DocumentSpec:
    """A 上行文 from the leading group to the province office."""
    base: dict[str, Any] = {"doc_type": doc_type, "to": [PROV], "cc": [], "cc_report": [], "approval": SIGN_ONLY}
    return make(**{**base, **changes})


def test_seed_notice_passes(kf_notice: DocumentSpec, kf: Directory) -> None:
    check_spec(kf_notice, kf)
    assert lead_code(kf_notice, kf) == "汴打假"
    assert direction(kf_notice, kf) is Direction.DOWNWARD


def test_draft_terms_resolve_what_a_draft_is_stored_with(kf_notice: DocumentSpec, kf: Directory) -> None:
    terms = draft_terms(kf_notice, kf, "郭佳佳")
    assert terms == {"route": route_for(kf_notice, kf), "retention": kf_notice.retention, "lead_code": "汴打假"}


def test_draft_terms_refuse_a_drafter_without_the_role_or_signing_their_own(
    kf_notice: DocumentSpec, kf: Directory
) -> None:
    with pytest.raises(RefusedDecision, match="「李红梅」没有拟稿权限（须有 drafter 角色）") as info:
        draft_terms(kf_notice, kf, "李红梅")
    assert info.value.field == "as"
    with pytest.raises(NotFound) as unknown:
        draft_terms(kf_notice, kf, "无名氏")
    assert unknown.value.field == "as"
    signer = kf.person("陈立新").model_copy(update={"roles": ["signer", "drafter"]})
    people = [signer if p.name == signer.name else p for p in kf.people]
    directory = Directory(kf.agencies, people, kf.groups, kf.counters, kf.retention)
    with pytest.raises(RefusedDecision, match="拟稿人「陈立新」不能作为本文的签发人") as own:
        draft_terms(kf_notice, directory, "陈立新")
    assert own.value.field == "approval.sign"


# -- 请示 -------------------------------------------------------------------------


def test_request_with_one_agency_and_signer_passes(make: Make, kf: Directory) -> None:
    check_spec(_upward(make, "请示", cc=[GOV]), kf)


def test_request_with_two_main_recipients(make: Make, kf: Directory) -> None:
    _fails(_upward(make, "请示", to=[PROV, GOV]), kf, "to", "只主送一个")


def test_request_without_main_recipient(make: Make, kf: Directory) -> None:
    _fails(_upward(make, "请示", to=[]), kf, "to")


@pytest.mark.parametrize("to", [COUNTY_GOVS, LEADERS, "刘志强"])
def test_request_to_a_group_or_person(make: Make, kf: Directory, to: str) -> None:
    _fails(_upward(make, "请示", to=[to]), kf, "to[0]", f"「{to}」")


@pytest.mark.parametrize("approval", [None, {"review": ["李红梅"]}, {"cosign": ["赵丽"]}])
def test_request_without_signer(make: Make, kf: Directory, approval: dict | None) -> None:
    spec = _upward(make, "请示", approval=approval)
    _fails(spec, kf, "approval.sign", "签发人")


def test_report_without_explicit_signer_is_not_a_request_rule(make: Make, kf: Directory) -> None:
    # a 报告 needs no approval.sign of its own; the default signer is ambiguous here, though
    _fails(_upward(make, "报告", approval={"review": ["李红梅"]}), kf, "approval.sign", "无法确定签发人")


# -- 上行文 may not 抄送 a subordinate -----------------------------------------------


@pytest.mark.parametrize("doc_type", ["报告", "请示"])
@pytest.mark.parametrize(
    ("cc", "field", "named"),
    [
        ([QX], "cc[0]", QX),
        ([OFFICE], "cc[0]", OFFICE),
        ([GOV, COUNTY_GROUPS], "cc[1]", QX),
        ([XCB, PSB, TX], "cc[2]", TX),
    ],
)
def test_upward_document_copied_to_subordinate(
    make: Make, kf: Directory, doc_type: str, cc: list[str], field: str, named: str
) -> None:
    _fails(_upward(make, doc_type, cc=cc), kf, field, "上行文不得抄送下级机关", f"「{named}」")


@pytest.mark.parametrize("doc_type", ["报告", "请示"])
def test_upward_document_copied_to_non_subordinates_passes(make: Make, kf: Directory, doc_type: str) -> None:
    check_spec(_upward(make, doc_type, cc=[GOV, XCB, COUNTY_GOVS, LEADERS]), kf)


def test_downward_document_may_copy_subordinates(make: Make, kf: Directory) -> None:
    check_spec(make(cc=[QX, COUNTY_GROUPS, OFFICE]), kf)


def test_upward_opinion_copied_to_subordinate(make: Make, kf: Directory) -> None:
    spec = make(doc_type="意见", to=[PROV], cc=[QX])
    assert direction(spec, kf) is Direction.UPWARD
    _fails(spec, kf, "cc[0]")
    check_spec(make(doc_type="意见", to=[XCB], cc=[QX]), kf)  # lateral: allowed


# -- 联合行文 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuers", "field", "named"),
    [
        ([LG, XCB], "issuer[1]", XCB),  # level 1 with level 0
        ([LG, OFFICE], "issuer[1]", OFFICE),  # level 1 with level 2
        ([LG, PSB, QX], "issuer[2]", QX),
        ([OFFICE, PROV], "issuer[1]", "河南省打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"),
    ],
)
def test_joint_issue_of_different_levels(make: Make, kf: Directory, issuers: list[str], field: str, named: str) -> None:
    _fails(make(issuer=issuers), kf, field, "同级", named)


@pytest.mark.parametrize(
    ("issuers", "code"),
    [
        ([LG, PSB], "汴打假"),
        ([LG_SHORT, PSB, "开封市商务局"], "汴打假"),
        ([OFFICE, QX], "汴打假办"),
        ([OFFICE, TX, QX], "汴打假办"),
    ],
)
def test_joint_issue_of_same_level_uses_lead_code(make: Make, kf: Directory, issuers: list[str], code: str) -> None:
    spec = make(issuer=issuers)
    check_spec(spec, kf)
    assert lead_code(spec, kf) == code


def test_joint_issue_with_the_same_agency_twice(make: Make, kf: Directory) -> None:
    _fails(make(issuer=[LG, LG_SHORT]), kf, "issuer", "重复")


@pytest.mark.parametrize(("issuers", "field"), [([GOV], "issuer[0]"), ([PSB, LG], "issuer[0]")])
def test_issuer_without_code(make: Make, kf: Directory, issuers: list[str], field: str) -> None:
    error = _fails(make(issuer=issuers), kf, field, "机关代字", issuers[0])
    assert not isinstance(error, NotFound)
    with pytest.raises(NotFound) as info:
        lead_code(make(issuer=issuers), kf)
    assert info.value.field == "issuer[0]"


@pytest.mark.parametrize(("issuers", "field"), [(["不存在的机关"], "issuer[0]"), ([LG, "不存在的机关"], "issuer[1]")])
def test_unknown_issuer(make: Make, kf: Directory, issuers: list[str], field: str) -> None:
    error = _fails(make(issuer=issuers), kf, field, "不存在的机关")
    assert isinstance(error, NotFound)


# -- 附件 titles -------------------------------------------------------------------


@pytest.mark.parametrize("mark", list("。，；：、,.;:!?！？…"))
def test_attachment_title_with_trailing_punctuation(make: Make, kf: Directory, mark: str) -> None:
    attachments = [{"title": "实施方案", "body": "正文"}, {"title": f"任务分工表{mark}", "body": "正文"}]
    _fails(make(attachments=attachments), kf, "attachments[1].title", "标点")
    _fails(make(attachments=attachments[1:]), kf, "attachments[0].title")


@pytest.mark.parametrize("title", ["实施方案", "《办法》", "任务分工表（试行）", "2022年工作要点"])
def test_attachment_title_without_trailing_punctuation(make: Make, kf: Directory, title: str) -> None:
    check_spec(make(attachments=[{"title": title, "body": "正文"}]), kf)


# -- 密级, 保密期限, 份号 -------------------------------------------------------------


def test_secret_term_without_secret(make: Make, kf: Directory) -> None:
    _fails(make(secret_term="1年", copy_no=1), kf, "secret_term", "密级")


def test_secret_without_copy_no(make: Make, kf: Directory) -> None:
    _fails(make(secret="秘密"), kf, "copy_no", "份号")
    _fails(make(secret="绝密", secret_term="10年"), kf, "copy_no")


@pytest.mark.parametrize(
    "changes",
    [{"secret": "秘密", "copy_no": 1}, {"secret": "机密", "secret_term": "5年", "copy_no": 12}, {"copy_no": 7}],
)
def test_secret_with_copy_no_passes(make: Make, kf: Directory, changes: dict[str, Any]) -> None:
    check_spec(make(**changes), kf)


# -- dates -------------------------------------------------------------------------


def test_print_date_before_date(make: Make, kf: Directory) -> None:
    _fails(make(date="2022-04-29", print_date="2022-04-28"), kf, "print_date", "早于")
    _fails(make(date="2022-01-01", print_date="2021-12-31"), kf, "print_date")


@pytest.mark.parametrize(
    ("date", "print_date"),
    [("2022-04-29", "2022-04-29"), ("2022-04-29", "2022-05-06"), (None, "2020-01-01"), ("2022-04-29", None)],
)
def test_print_date_not_before_date_passes(make: Make, kf: Directory, date: str | None, print_date: str | None) -> None:
    check_spec(make(date=date, print_date=print_date), kf)


# -- ref -----------------------------------------------------------------------------


def test_ref_in_a_draft(make: Make, kf: Directory) -> None:
    spec = make(ref="汴打假〔2022〕3号")
    _fails(spec, kf, "ref", "草稿")
    check_spec(spec, kf, for_render=True)


def test_rendered_ref_uses_the_lead_issuers_code(make: Make, kf: Directory) -> None:
    with pytest.raises(InputError) as info:
        check_spec(make(ref="汴打假办〔2022〕3号"), kf, for_render=True)
    assert info.value.field == "ref" and "「汴打假办」" in info.value.message and "「汴打假」" in info.value.message


# -- names must be in the directory ---------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to": ["不存在的单位"]}, "to[0]"),
        ({"to": [GOV, "不存在的单位"]}, "to[1]"),
        ({"cc": ["不存在的单位"]}, "cc[0]"),
        ({"cc_report": [LEADERS, PROV, "不存在的单位"]}, "cc_report[2]"),
        ({"printer": "不存在的单位"}, "printer"),
    ],
)
def test_unknown_recipient(make: Make, kf: Directory, changes: dict[str, Any], field: str) -> None:
    error = _fails(make(**changes), kf, field, "不存在的单位")
    assert isinstance(error, NotFound)


def test_printer_must_be_an_agency(make: Make, kf: Directory) -> None:
    _fails(make(printer=COUNTY_GROUPS), kf, "printer")
    check_spec(make(printer=OFFICE), kf)


def test_recipients_by_short_name_person_and_group_pass(make: Make, kf: Directory) -> None:
    check_spec(make(to=["市市场监督管理局", COUNTY_GROUPS, "刘志强"]), kf)


@pytest.mark.parametrize(
    ("doc_type", "ok"), [("通知", False), ("函", False), ("公告", True), ("纪要", True), ("命令", True)]
)
def test_main_recipient_required_except_for_public_documents(
    make: Make, kf: Directory, doc_type: str, ok: bool
) -> None:
    spec = make(doc_type=doc_type, to=[])
    if ok:
        check_spec(spec, kf)
    else:
        _fails(spec, kf, "to", "主送机关")


# -- approval people ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("approval", "field", "part"),
    [
        ({"review": ["郭佳佳"], "sign": "陈立新"}, "approval.review[0]", "核稿"),
        ({"review": ["李红梅", "孙敏"], "sign": "陈立新"}, "approval.review[1]", "核稿"),
        ({"review": ["李红梅"], "cosign": ["李红梅"], "sign": "陈立新"}, "approval.cosign[0]", "会签"),
        ({"review": ["李红梅"], "sign": "赵丽"}, "approval.sign", "签发"),
        ({"review": ["李红梅"], "sign": "张伟"}, "approval.sign", "签发"),
        ({"review": ["无名氏"], "sign": "陈立新"}, "approval.review[0]", "无名氏"),
        ({"review": ["李红梅"], "sign": "无名氏"}, "approval.sign", "无名氏"),
        ({"review": ["李红梅", "张伟", "李红梅"], "sign": "陈立新"}, "approval.review", "重复"),
    ],
)
def test_approval_person_lacking_role(
    make: Make, kf: Directory, approval: dict[str, Any], field: str, part: str
) -> None:
    spec = make(approval=approval)
    _fails(spec, kf, field, part)
    with pytest.raises(InputError) as info:
        route_for(spec, kf)
    assert info.value.field == field


def test_explicit_route(make: Make, kf: Directory) -> None:
    spec = make(approval={"review": ["张伟", "李红梅"], "cosign": ["赵丽"], "sign": "刘志强"})
    assert route_for(spec, kf) == Route(review=("张伟", "李红梅"), cosign=("赵丽",), sign="刘志强")


# -- route defaults from the directory --------------------------------------------------


def test_route_defaults_reviewers_from_directory(make: Make, kf: Directory) -> None:
    # the leading group's office (a child agency) holds both reviewers, in directory order
    route = route_for(make(approval={"sign": "陈立新"}), kf)
    assert route == Route(review=("李红梅", "张伟"), cosign=(), sign="陈立新")


def test_route_with_ambiguous_default_signer(make: Make, kf: Directory) -> None:
    spec = make(approval=None)
    with pytest.raises(InputError) as info:
        route_for(spec, kf)
    assert info.value.field == "approval.sign"
    assert "刘志强" in info.value.message and "陈立新" in info.value.message
    _fails(spec, kf, "approval.sign")


def test_route_with_no_default_signer(make: Make, kf: Directory) -> None:
    spec = make(issuer=OFFICE, approval=None)
    with pytest.raises(InputError) as info:
        route_for(spec, kf)
    assert info.value.field == "approval.sign"
    assert "无" in info.value.message


@pytest.fixture
def small(build_directory: Callable[..., Directory]) -> Directory:
    return build_directory(
        agencies=[
            {"name": "甲市人民政府", "short": "甲市政府", "code": "甲政"},
            {"name": "甲市人民政府办公室", "code": "甲政办", "parent": "甲市人民政府"},
            {"name": "甲市科室", "parent": "甲市人民政府办公室"},
            {"name": "乙市人民政府", "code": "乙政"},
        ],
        people=[
            {"name": "拟稿人", "agency": "甲市人民政府办公室", "roles": ["drafter"]},
            {"name": "核稿甲", "agency": "甲市人民政府办公室", "roles": ["reviewer"]},
            {"name": "核稿科", "agency": "甲市科室", "roles": ["reviewer"]},
            {"name": "核稿乙", "agency": "乙市人民政府", "roles": ["reviewer"]},
            {"name": "市长", "agency": "甲市人民政府", "roles": ["signer"]},
            {"name": "乙市长", "agency": "乙市人民政府", "roles": ["signer"]},
            {"name": "会签人", "agency": "乙市人民政府", "roles": ["cosigner"]},
        ],
    )


def _small_spec(**changes: Any) -> DocumentSpec:
    data = {"doc_type": "通知", "issuer": "甲市政府", "title": "关于测试的通知", "to": ["甲市科室"], "body": "正文。"}
    spec, _ = parse_spec({**data, **changes})
    return spec


def test_route_defaults_from_small_directory(small: Directory) -> None:
    spec = _small_spec()
    assert route_for(spec, small) == Route(review=("核稿甲",), cosign=(), sign="市长")
    check_spec(spec, small)


def test_route_defaults_for_joint_issue_include_both_issuers(small: Directory) -> None:
    spec = _small_spec(issuer=["甲市人民政府", "乙市人民政府"], approval={"sign": "市长"})
    assert route_for(spec, small) == Route(review=("核稿甲", "核稿乙"), cosign=(), sign="市长")
    with pytest.raises(InputError) as info:
        route_for(_small_spec(issuer=["甲市人民政府", "乙市人民政府"]), small)
    assert info.value.field == "approval.sign"
    assert "市长" in info.value.message and "乙市长" in info.value.message


def test_route_keeps_explicit_cosign(small: Directory) -> None:
    spec = _small_spec(approval={"cosign": ["会签人"]})
    assert route_for(spec, small) == Route(review=("核稿甲",), cosign=("会签人",), sign="市长")


# -- direction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ([PROV], Direction.UPWARD),
        (["河南省打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"], Direction.UPWARD),
        ([QX], Direction.DOWNWARD),
        ([COUNTY_GROUPS], Direction.DOWNWARD),
        ([OFFICE], Direction.DOWNWARD),
        ([PROV, QX], Direction.DOWNWARD),
        ([XCB], Direction.LATERAL),
        ([GOV, PSB], Direction.LATERAL),
        ([PROV, XCB], Direction.LATERAL),
        ([COUNTY_GOVS], Direction.LATERAL),
        ([LEADERS], Direction.LATERAL),
    ],
)
def test_direction_of_opinion(make: Make, kf: Directory, to: list[str], expected: Direction) -> None:
    assert direction(make(doc_type="意见", to=to), kf) is expected


@pytest.mark.parametrize(
    ("to", "expected"),
    [([PROV], Direction.LATERAL), ([XCB], Direction.LATERAL), ([QX], Direction.DOWNWARD)],
)
def test_direction_of_minutes(make: Make, kf: Directory, to: list[str], expected: Direction) -> None:
    assert direction(make(doc_type="纪要", to=to), kf) is expected


FIXED = {
    "决议": Direction.DOWNWARD,
    "决定": Direction.DOWNWARD,
    "命令": Direction.DOWNWARD,
    "公报": Direction.DOWNWARD,
    "公告": Direction.DOWNWARD,
    "通告": Direction.DOWNWARD,
    "通知": Direction.DOWNWARD,
    "通报": Direction.DOWNWARD,
    "批复": Direction.DOWNWARD,
    "报告": Direction.UPWARD,
    "请示": Direction.UPWARD,
    "议案": Direction.UPWARD,
    "函": Direction.LATERAL,
}


@pytest.mark.parametrize(("doc_type", "expected"), list(FIXED.items()))
def test_direction_fixed_by_doc_type(make: Make, kf: Directory, doc_type: str, expected: Direction) -> None:
    for to in ([PROV], [QX], [XCB]):
        assert direction(make(doc_type=doc_type, to=to), kf) is expected


def test_every_doc_type_has_directions() -> None:
    assert len(DocType) == 15
    assert set(DIRECTIONS) == set(DocType)
    assert set(FIXED) | {"意见", "纪要"} == {d.value for d in DocType}
    assert DIRECTIONS[DocType.OPINION] == frozenset(Direction)
    assert DIRECTIONS[DocType.MINUTES] == frozenset({Direction.DOWNWARD, Direction.LATERAL})


@pytest.fixture
def make(make_spec: Make) -> Make:
    return make_spec
