"""The directory: the kaifeng seed, groups, cross references, PINs, levels."""

from __future__ import annotations

from collections.abc import Callable
from email.headerregistry import Address
from typing import Any

import pytest

from models.directory import Agency, Directory, Person, parse_directory
from models.errors import InputError, NotFound
from models.pin import hash_pin, is_pin_hash, verify_pin
from models.vocabulary import DocType, Retention, Role

LG = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"
OFFICE = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"
PROV = "河南省打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"
GOV = "开封市人民政府"
COUNTY_GROUPS = [
    "杞县打击侵权假冒工作领导小组",
    "通许县打击侵权假冒工作领导小组",
    "尉氏县打击侵权假冒工作领导小组",
    "兰考县打击侵权假冒工作领导小组",
    "祥符区打击侵权假冒工作领导小组",
    "鼓楼区打击侵权假冒工作领导小组",
    "龙亭区打击侵权假冒工作领导小组",
    "顺河回族区打击侵权假冒工作领导小组",
    "禹王台区打击侵权假冒工作领导小组",
]

Build = Callable[..., Directory]


def _error(call: Callable[[], Any]) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    assert info.value.exit_code == 2
    return info.value


# -- the kaifeng seed -------------------------------------------------------------


def test_kaifeng_directory_parses(kf: Directory) -> None:
    assert len(kf.agencies) == 33
    assert [p.name for p in kf.people] == ["郭佳佳", "李红梅", "张伟", "刘志强", "陈立新", "赵丽", "王强", "孙敏"]
    assert [g.name for g in kf.groups] == [
        "市打击侵权假冒工作领导小组相关成员单位",
        "各县（区）打击侵权假冒工作领导小组",
        "各县（区）人民政府",
        "市打击侵权假冒工作领导小组组长、副组长",
    ]
    lg = kf.agency(LG)
    assert (lg.code, lg.fonds, lg.parent) == ("汴打假", "J001", PROV)
    assert kf.agency("市打击侵权假冒工作领导小组") is lg  # by short name
    assert kf.agency("市打击侵权假冒工作领导小组办公室").code == "汴打假办"
    assert kf.person("李红梅").roles == [Role.REVIEWER, Role.REGISTRAR, Role.ADMINISTRATOR]
    assert kf.retention_for(DocType.DECISION) is Retention.PERMANENT
    assert kf.retention_for(DocType.LETTER) is Retention.TEN_YEARS
    assert kf.retention_for(DocType.REQUEST) is Retention.THIRTY_YEARS  # the default


def test_counter_seed(kf: Directory) -> None:
    assert kf.seed_for("汴打假", 2022) == 2
    assert kf.seed_for("汴打假", 2023) == 0
    assert kf.seed_for("汴打假办", 2022) == 0


def test_unknown_names_are_not_found(kf: Directory) -> None:
    with pytest.raises(NotFound) as info:
        kf.agency("不存在", "issuer[0]")
    assert info.value.field == "issuer[0]"
    with pytest.raises(NotFound) as info:
        kf.person("无名氏", "approval.sign")
    assert info.value.field == "approval.sign"
    with pytest.raises(NotFound) as info:
        kf.expand("不存在", "cc[3]")
    assert info.value.field == "cc[3]"
    assert kf.knows("刘志强") and kf.knows(LG) and kf.knows("各县（区）人民政府") and not kf.knows("不存在")


def test_people_with_role(kf: Directory) -> None:
    assert [p.name for p in kf.people_with(Role.REVIEWER, {OFFICE})] == ["李红梅", "张伟"]
    assert [p.name for p in kf.people_with(Role.SIGNER, {LG, OFFICE})] == ["刘志强", "陈立新"]
    assert kf.people_with(Role.SIGNER, {OFFICE}) == []


# -- group expansion ------------------------------------------------------------------


def test_county_group_expands_to_nine_agencies(kf: Directory) -> None:
    members = kf.expand("各县（区）打击侵权假冒工作领导小组")
    assert [m.name for m in members] == COUNTY_GROUPS
    assert all(isinstance(m, Agency) for m in members)
    assert len(kf.expand("各县（区）人民政府")) == 9
    assert len(kf.expand("市打击侵权假冒工作领导小组相关成员单位")) == 11


def test_group_of_people(kf: Directory) -> None:
    members = kf.expand("市打击侵权假冒工作领导小组组长、副组长")
    assert [m.name for m in members] == ["刘志强", "陈立新"]
    assert all(isinstance(m, Person) for m in members)


def test_expand_single_agency_and_person(kf: Directory) -> None:
    assert [a.name for a in kf.expand("市政府")] == [GOV]
    assert [p.name for p in kf.expand("赵丽")] == ["赵丽"]


def test_nested_groups_expand_once_each(build_directory: Build) -> None:
    directory = build_directory(
        agencies=[{"name": n} for n in ("甲", "乙", "丙", "丁")],
        people=[{"name": "张三", "agency": "丁"}],
        groups=[
            {"name": "全部", "members": ["甲", "内层", "乙", "人员"]},
            {"name": "内层", "members": ["乙", "丙", "最内层"]},
            {"name": "最内层", "members": ["丙", "丁"]},
            {"name": "人员", "members": ["张三"]},
        ],
    )
    assert [m.name for m in directory.expand("全部")] == ["甲", "乙", "丙", "丁", "张三"]
    assert [m.name for m in directory.expand("内层")] == ["乙", "丙", "丁"]


# -- bad directories -------------------------------------------------------------------


def test_unknown_group_member(kf_variant: Callable[[], dict[str, Any]]) -> None:
    data = kf_variant()
    data["groups"][1]["members"].insert(3, "不存在的县打击侵权假冒工作领导小组")
    error = _error(lambda: parse_directory(data))
    assert error.field == "groups[1].members[3]"
    assert "「不存在的县打击侵权假冒工作领导小组」" in error.message


def test_kaifeng_variant_without_changes_parses(kf_variant: Callable[[], dict[str, Any]], kf: Directory) -> None:
    directory = parse_directory(kf_variant())
    assert [p.pin_hash for p in directory.people] == [p.pin_hash for p in kf.people]


def test_unknown_parent(kf_variant: Callable[[], dict[str, Any]]) -> None:
    data = kf_variant()
    data["agencies"][5]["parent"] = "开封市人民政府办公厅"
    error = _error(lambda: parse_directory(data))
    assert isinstance(error, NotFound)
    assert error.field == "agencies[5].parent"
    assert "开封市人民政府办公厅" in error.message


def test_person_in_unknown_agency(kf_variant: Callable[[], dict[str, Any]]) -> None:
    data = kf_variant()
    data["people"][2]["agency"] = "开封市不存在局"
    error = _error(lambda: parse_directory(data))
    assert error.field == "people[2].agency"
    assert "开封市不存在局" in error.message


def test_counter_seed_for_unknown_code(kf_variant: Callable[[], dict[str, Any]]) -> None:
    data = kf_variant()
    data["counters"].append({"code": "汴假", "year": 2022, "last": 5})
    error = _error(lambda: parse_directory(data))
    assert error.field == "counters[1].code"
    assert "「汴假」" in error.message


@pytest.mark.parametrize(
    ("data", "field", "part"),
    [
        ({"agencies": [{"name": "甲", "parent": "乙"}, {"name": "乙", "parent": "甲"}]}, "agencies[0].parent", "循环"),
        ({"agencies": [{"name": "甲", "parent": "甲"}]}, "agencies[0].parent", "循环"),
        (
            {
                "agencies": [
                    {"name": "甲", "parent": "丙"},
                    {"name": "乙", "parent": "甲"},
                    {"name": "丙", "parent": "乙"},
                ]
            },
            "agencies[0].parent",
            "循环",
        ),
        ({"agencies": [{"name": "甲"}, {"name": "甲"}]}, "agencies[1].name", "「甲」重复"),
        ({"agencies": [{"name": "甲", "short": "乙"}, {"name": "乙"}]}, "agencies[0].short", "「乙」重复"),
        (
            {"agencies": [{"name": "甲", "code": "甲"}, {"name": "乙", "code": "乙"}, {"name": "丙", "code": "甲"}]},
            "agencies[2].code",
            "机关代字「甲」重复",
        ),
        ({"agencies": [{"name": "甲/乙"}]}, "agencies[0].name", "路径分隔符"),
        ({"agencies": [{"name": "甲", "short": "..\\甲"}]}, "agencies[0].short", "路径分隔符"),
        ({"agencies": [{"name": "甲\x00"}]}, "agencies[0].name", "U+0000"),
        ({"agencies": [{"name": "\u202e甲"}]}, "agencies[0].name", "U+202E"),
        ({"groups": [{"name": "组/一", "members": ["组"]}]}, "groups[0].name", "路径分隔符"),
        ({"agencies": [{"name": "甲", "code": "甲字"}]}, "agencies[0].code", "「字」"),
        ({"agencies": [{"name": "甲", "code": "甲-1"}]}, "agencies[0].code", "甲-1"),
        ({"agencies": [{"name": ""}]}, "agencies[0].name", "不能为空"),
        ({"agencies": [{"name": "甲", "level": 1}]}, "agencies[0].level", "未知字段"),
        ({"agencies": [{"name": "甲", "fonds": "J 1"}]}, "agencies[0].fonds", ""),
        ({"groups": [{"name": "组", "members": []}]}, "groups[0].members", "至少需要 1 项"),
        ({"groups": [{"name": "组", "members": ["组"]}]}, "groups[0].members", "组 → 组"),
        (
            {"groups": [{"name": "一组", "members": ["二组"]}, {"name": "二组", "members": ["一组"]}]},
            "groups[0].members",
            "一组 → 二组 → 一组",
        ),
        (
            {
                "agencies": [{"name": "甲"}],
                "groups": [
                    {"name": "外", "members": ["甲", "内"]},
                    {"name": "内", "members": ["再内"]},
                    {"name": "再内", "members": ["内"]},
                ],
            },
            "groups[0].members",
            "内 → 再内 → 内",
        ),
        (
            {
                "agencies": [{"name": "甲"}],
                "groups": [{"name": "组", "members": ["甲"]}, {"name": "组", "members": ["甲"]}],
            },
            "groups[1].name",
            "重复",
        ),
        ({"agencies": [{"name": "甲"}], "groups": [{"name": "甲", "members": ["甲"]}]}, "groups[0].name", "重名"),
        (
            {"agencies": [{"name": "甲", "code": "甲"}], "counters": [{"code": "甲", "year": 2022, "last": -1}]},
            "counters[0].last",
            "应 ≥ 0",
        ),
        (
            {"agencies": [{"name": "甲", "code": "甲"}], "counters": [{"code": "甲", "year": 22, "last": 1}]},
            "counters[0].year",
            "应 ≥ 1000",
        ),
        ({"retention": {"default": "5年"}}, "retention.default", "永久"),
        ({"bogus": []}, "bogus", "未知字段"),
    ],
)
def test_bad_structure(data: dict[str, Any], field: str, part: str) -> None:
    error = _error(lambda: parse_directory(data))
    assert error.field == field, (error.field, error.message)
    assert part in error.message


@pytest.mark.parametrize("data", [None, [], "agencies: []"])
def test_directory_must_be_a_mapping(data: Any) -> None:
    assert _error(lambda: parse_directory(data)).field == "（根）"


# -- people -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("person", "field", "part"),
    [
        ({"roles": ["boss"]}, "people[1].roles[0]", "drafter"),
        ({"roles": ["drafter", "Signer"]}, "people[1].roles[1]", "signer"),
        ({"pin": None, "pin_hash": None}, "people[1].pin", "缺少 PIN"),
        ({"pin": "123456"}, "people[1].pin", "只能给一个"),
        ({"pin_hash": "sha256$abc"}, "people[1].pin_hash", "scrypt"),
        ({"pin_hash": None, "pin": 123456}, "people[1].pin", "应为文本"),
        ({"pin_hash": None, "pin": "12a4"}, "people[1].pin", ""),
        ({"pin_hash": None, "pin": "123"}, "people[1].pin", "6 至 12 位"),
        ({"pin_hash": None, "pin": "12345"}, "people[1].pin", "6 至 12 位"),
        ({"pin_hash": None, "pin": "1234567890123"}, "people[1].pin", "6 至 12 位"),
        ({"pin_hash": None, "pin": "４１７３０５"}, "people[1].pin", ""),
        ({"pin_hash": None, "pin": "٤١٧٣٠٥"}, "people[1].pin", ""),
        ({"name": "../李四"}, "people[1].name", "路径分隔符"),
        ({"agency": "乙"}, "people[1].agency", "「乙」"),
        ({"name": "张三"}, "people[1].name", "「张三」重复"),
        ({"password": "x"}, "people[1].password", "未知字段"),
    ],
)
def test_bad_person(pin_hash: str, person: dict[str, Any], field: str, part: str) -> None:
    good = {"name": "张三", "agency": "甲", "roles": ["drafter"], "pin_hash": pin_hash}
    bad = {"name": "李四", "agency": "甲", "roles": ["reviewer"], "pin_hash": pin_hash, **person}
    bad = {key: value for key, value in bad.items() if value is not None}
    error = _error(lambda: parse_directory({"agencies": [{"name": "甲"}], "people": [good, bad]}))
    assert error.field == field, (error.field, error.message)
    assert part in error.message


@pytest.mark.parametrize(
    "address",
    [
        "张三@kaifeng.example.cn",
        "zhang@开封.中国",
        "ｚｈａｎｇ@kaifeng.example.cn",
        "zhang@localhost",
        "zhang san@kaifeng.example.cn",
        "zhang<san@kaifeng.example.cn",
        "zhang,san@kaifeng.example.cn",
        "zhang..san@kaifeng.example.cn",
        ".zhang@kaifeng.example.cn",
        "zhang@kaifeng..example.cn",
        "zhang@-kaifeng.example.cn",
        '"zhang san"@kaifeng.example.cn',
        "zhang@kaifeng.example.cn\nBcc: x@y.cn",
        "郭佳佳 <zhang@kaifeng.example.cn>",
    ],
)
def test_addresses_the_message_builder_refuses_are_refused_at_load(address: str) -> None:
    """An address that passes here must be one a 核发 message can carry (no SMTPUTF8, one mailbox)."""
    for data in (
        {"agencies": [{"name": "甲", "email": address}]},
        {"agencies": [{"name": "甲"}], "people": [{"name": "张三", "agency": "甲", "pin": "123456", "email": address}]},
    ):
        error = _error(lambda data=data: parse_directory(data))
        assert error.field in ("agencies[0].email", "people[0].email")
        assert "电子邮件地址" in error.message


@pytest.mark.parametrize(
    "address", ["kfsfld@163.com", "zhang.san+gw@kaifeng.example.cn", "a_b-c@xn--fiqs8s.xn--fiqs8s"]
)
def test_usable_addresses_pass_and_the_message_builder_takes_them(address: str) -> None:
    directory = parse_directory({"agencies": [{"name": "甲", "email": address}]})
    assert str(Address(display_name="甲", addr_spec=directory.agency("甲").email)).endswith(f"<{address}>")


@pytest.mark.parametrize(("key", "value"), [("pin", "12a4"), ("email", "not-an-email")])
def test_pattern_mismatch_message_is_chinese(key: str, value: str) -> None:
    person = {"name": "张三", "agency": "甲", "roles": [], key: value}
    if key != "pin":
        person["pin_hash"] = hash_pin("123456", b"\x00" * 16)
    error = _error(lambda: parse_directory({"agencies": [{"name": "甲"}], "people": [person]}))
    assert error.field == f"people[0].{key}"
    assert "String should match" not in error.message and error.message.isascii() is False


def test_pin_is_never_stored_plain(kf: Directory, kf_pins: dict[str, str]) -> None:
    for person in kf.people:
        pin = kf_pins[person.name]
        assert is_pin_hash(person.pin_hash)
        assert verify_pin(pin, person.pin_hash)
        dumped = person.model_dump()
        assert "pin" not in dumped
        # the hash's hex digits may contain the PIN's digits by chance: look everywhere but there
        without_hash = {key: value for key, value in dumped.items() if key != "pin_hash"}
        assert pin not in repr(without_hash) and pin not in repr(person)
        assert person.model_dump_json().count(pin) == person.pin_hash.count(pin)
        assert "pin_hash" not in repr(person)  # the hash is kept out of repr too
    assert not verify_pin("000000", kf.person("陈立新").pin_hash)
    assert not verify_pin(kf_pins["刘志强"], kf.person("陈立新").pin_hash)


def test_pin_hash_is_salted() -> None:
    first, second = hash_pin("123456"), hash_pin("123456")
    assert first != second
    assert verify_pin("123456", first) and verify_pin("123456", second)
    assert first.split("$")[:4] == ["scrypt", str(2**14), "8", "1"]


@pytest.mark.parametrize(
    "stored", ["", "scrypt$1$2$3", "bcrypt$16384$8$1$00$00", "scrypt$x$8$1$00$00", "scrypt$16384$8$1$zz$00"]
)
def test_verify_pin_rejects_malformed_hashes(stored: str) -> None:
    assert verify_pin("123456", stored) is False


def test_pin_hash_given_is_kept(build_directory: Build, pin_hash: str) -> None:
    directory = build_directory(agencies=[{"name": "甲"}], people=[{"name": "张三", "agency": "甲"}])
    assert directory.person("张三").pin_hash == pin_hash
    assert verify_pin("123456", directory.person("张三").pin_hash)


# -- levels and subordination ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "level"),
    [
        (PROV, 0),
        (GOV, 0),
        ("中共开封市委宣传部", 0),
        (LG, 1),
        ("开封市公安局", 1),
        ("杞县人民政府", 1),
        (OFFICE, 2),
        ("杞县打击侵权假冒工作领导小组", 2),
    ],
)
def test_level(kf: Directory, name: str, level: int) -> None:
    assert kf.level(kf.agency(name)) == level


@pytest.mark.parametrize(
    ("lower", "upper", "expected"),
    [
        (LG, PROV, True),
        (OFFICE, LG, True),
        (OFFICE, PROV, True),  # transitive
        ("杞县打击侵权假冒工作领导小组", LG, True),
        ("杞县人民政府", GOV, True),
        (PROV, LG, False),
        (LG, OFFICE, False),
        (LG, LG, False),
        ("杞县人民政府", LG, False),
        ("杞县打击侵权假冒工作领导小组", OFFICE, False),  # a sibling's child, not ours
        (OFFICE, GOV, False),
    ],
)
def test_is_subordinate(kf: Directory, lower: str, upper: str, expected: bool) -> None:
    assert kf.is_subordinate(kf.agency(lower), kf.agency(upper)) is expected


def test_ancestors_nearest_first(kf: Directory) -> None:
    assert [a.name for a in kf.ancestors(kf.agency(OFFICE))] == [LG, PROV]
