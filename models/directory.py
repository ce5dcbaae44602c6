"""The directory (design.md §3.2): agencies (机关), people (人员), recipient groups.

- An agency has a full name and may have a 规范化简称 (``short``), a 机关代字 (``code``)
  for 发文字号, a 发文机关标志 (``header``), a 全宗号 (``fonds``), an address for
  distribution and a superior (``parent``); 机关层级 follows from the parents.
- A person belongs to one agency, holds roles, and has a PIN of 6 to 12 digits kept only as a
  salted hash; whoever holds the 管理员 role (``administrator``) may change the directory.
- A group names recipients once (``各县（区）人民政府``); members are agencies,
  people or other groups, without cycles.
- ``counters`` seed the last used 发文顺序号 per (机关代字, 年份); ``retention``
  gives the default 保管期限 per 文种.

``parse_directory`` validates everything and every cross reference before
anything is stored, and names the first bad field. Names hold no control characters
(models.validation.clean_text) and no path separator; an e-mail address is one every mail
server takes (``check_address``); each 机关代字 belongs to one agency, so that no two
documents can share a 发文字号.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.errors import InputError, NotFound
from models.pin import hash_pin, is_pin_hash, verify_pin
from models.refno import check_code
from models.validation import clean_text, input_error
from models.vocabulary import DocType, Retention, Role

_ATOM = r"[A-Za-z0-9_%+=-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})")
#: A PIN's length in digits, shortest and longest.
PIN_DIGITS = (6, 12)
_PIN = re.compile(rf"[0-9]{{{PIN_DIGITS[0]},{PIN_DIGITS[1]}}}")

Name = Annotated[str, Field(min_length=1, max_length=100)]
Email = Annotated[str, Field(max_length=254)]  # checked by check_address when a directory file is loaded


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(_Entry):
    """机关: a name, and what it needs to issue and receive documents."""

    name: Name
    short: Name | None = None
    code: Annotated[str, Field(max_length=20)] | None = None
    header: Annotated[str, Field(max_length=100)] | None = None
    fonds: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,20}$")] | None = None
    email: Email | None = None
    parent: Name | None = None
    seal: Annotated[str, Field(max_length=500)] | None = None

    @field_validator("code")
    @classmethod
    def _valid_code(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                check_code(value)
            except InputError as error:
                raise ValueError(error.message) from None
        return value


class Person(_Entry):
    """人员: belongs to an agency, holds roles, signs with a PIN (hash only)."""

    name: Name
    agency: Name
    roles: Annotated[list[Role], Field(max_length=len(Role))] = []
    pin_hash: str = Field(default="", repr=False)
    email: Email | None = None
    title: Annotated[str, Field(max_length=50)] | None = None

    def has_role(self, role: Role) -> bool:
        return role in self.roles


#: Person fields that hold a secret (the PIN's hash; any password hash or TOTP secret added here too):
#: an audit entry names them with a digest of the stored value, never the value (models.directory_changes).
SECRET_FIELDS = frozenset({"pin_hash"})


class Group(_Entry):
    """收文分组: recipients named once (agencies, people or groups)."""

    name: Name
    members: Annotated[list[Name], Field(min_length=1, max_length=1000)]


class CounterSeed(_Entry):
    """The last 发文顺序号 already used for (机关代字, 年份) before gongwen."""

    code: Annotated[str, Field(min_length=1, max_length=20)]
    year: Annotated[int, Field(strict=True, ge=1000, le=9999)]
    last: Annotated[int, Field(strict=True, ge=0, le=10_000_000)]


class RetentionRules(_Entry):
    """保管期限 by 文种, with a default for the rest."""

    default: Retention = Retention.THIRTY_YEARS
    by_doc_type: dict[DocType, Retention] = {}


class _PersonInput(_Entry):
    name: Name
    agency: Name
    roles: Annotated[list[Role], Field(max_length=len(Role))] = []
    pin: str | None = None
    pin_hash: str | None = None
    email: Email | None = None
    title: Annotated[str, Field(max_length=50)] | None = None

    @field_validator("pin")
    @classmethod
    def _strong_pin(cls, value: str | None) -> str | None:
        """A PIN is 6 to 12 ASCII digits (PIN_DIGITS): a shorter one falls to guessing despite the lockout."""
        if value is not None and not _PIN.fullmatch(value):
            raise ValueError(f"PIN 应为 {PIN_DIGITS[0]} 至 {PIN_DIGITS[1]} 位半角数字")
        return value


class _DirectoryInput(_Entry):
    agencies: Annotated[list[Agency], Field(max_length=10_000)] = []
    people: Annotated[list[_PersonInput], Field(max_length=10_000)] = []
    groups: Annotated[list[Group], Field(max_length=1000)] = []
    counters: Annotated[list[CounterSeed], Field(max_length=1000)] = []
    retention: RetentionRules = RetentionRules()


class Directory:
    """The validated directory, with the look-ups the 条例 rules need."""

    def __init__(
        self,
        agencies: list[Agency],
        people: list[Person],
        groups: list[Group],
        counters: list[CounterSeed] = (),
        retention: RetentionRules = RetentionRules(),
    ) -> None:
        self.agencies = list(agencies)
        self.people = list(people)
        self.groups = list(groups)
        self.counters = list(counters)
        self.retention = retention
        self._agencies = {a.name: a for a in self.agencies}
        self._agencies.update({a.short: a for a in self.agencies if a.short})
        self._people = {p.name: p for p in self.people}
        self._groups = {g.name: g for g in self.groups}

    # -- look-ups -------------------------------------------------------------
    def agency(self, name: str, field: str = "agency") -> Agency:
        """An agency by full or short name."""
        try:
            return self._agencies[name]
        except KeyError:
            raise NotFound(f"目录中没有机关「{name}」", field) from None

    def person(self, name: str, field: str = "person") -> Person:
        try:
            return self._people[name]
        except KeyError:
            raise NotFound(f"目录中没有人员「{name}」", field) from None

    def is_agency(self, name: str) -> bool:
        return name in self._agencies

    def is_group(self, name: str) -> bool:
        return name in self._groups

    def knows(self, name: str) -> bool:
        return name in self._agencies or name in self._groups or name in self._people

    def ancestors(self, agency: Agency) -> Iterator[Agency]:
        """上级机关, nearest first."""
        seen = {agency.name}
        while agency.parent and agency.parent in self._agencies:
            agency = self._agencies[agency.parent]
            if agency.name in seen:
                return
            seen.add(agency.name)
            yield agency

    def level(self, agency: Agency) -> int:
        """机关层级: 0 for an agency without a superior, +1 per step down."""
        return sum(1 for _ in self.ancestors(agency))

    def is_subordinate(self, lower: Agency, upper: Agency) -> bool:
        """True when ``upper`` is among the superiors of ``lower`` (下级机关)."""
        return any(a.name == upper.name for a in self.ancestors(lower))

    def expand(self, name: str, field: str = "recipient") -> list[Agency | Person]:
        """Resolve a recipient name to agencies and people, groups expanded, once each."""
        if name in self._agencies:
            return [self._agencies[name]]
        if name in self._people:
            return [self._people[name]]
        if name not in self._groups:
            raise NotFound(f"目录中没有机关、人员或分组「{name}」", field)
        found: dict[str, Agency | Person] = {}
        for member in self._groups[name].members:
            for item in self.expand(member, field):
                found.setdefault(item.name, item)
        return list(found.values())

    def people_with(self, role: Role, agencies: set[str]) -> list[Person]:
        """People holding ``role`` in any of the named agencies, in directory order."""
        return [p for p in self.people if p.has_role(role) and p.agency in agencies]

    def retention_for(self, doc_type: DocType) -> Retention:
        return self.retention.by_doc_type.get(doc_type, self.retention.default)

    def seed_for(self, code: str, year: int) -> int:
        """The seeded last serial for (code, year), 0 when none."""
        return max((c.last for c in self.counters if c.code == code and c.year == year), default=0)


def parse_directory(data: Any, stored: Callable[[], Mapping[str, str]] | None = None) -> Directory:
    """Validate raw directory data (from YAML) into a Directory; PINs get hashed. ``stored`` gives the PIN
    hashes stored now by name, asked once the data is valid: a PIN given in clear that matches its person's
    stored hash keeps that hash, so that a reload changes no PIN it does not change (models.directory_changes)."""
    if not isinstance(data, dict):
        raise InputError("目录应为映射（键: 值）", "（根）")
    cleaned, _ = clean_text(data)
    try:
        raw = _DirectoryInput.model_validate(cleaned)
    except ValidationError as exc:
        raise input_error(exc) from None
    for i, entry in enumerate(raw.people):
        _check_pin(entry, i)
    unhashed = [Person(**entry.model_dump(exclude={"pin", "pin_hash"})) for entry in raw.people]
    checked = Directory(raw.agencies, unhashed, raw.groups, raw.counters, raw.retention)
    _check_names_and_addresses(checked)
    check_references(checked)
    # PINs are hashed last, once everything else holds: scrypt is slow on purpose (~0.1 s each)
    kept = stored() if stored is not None else {}
    people = [
        person.model_copy(update={"pin_hash": entry.pin_hash or _hashed(entry.pin, kept.get(person.name))})
        for person, entry in zip(unhashed, raw.people, strict=True)
    ]
    return Directory(raw.agencies, people, raw.groups, raw.counters, raw.retention)


def _hashed(pin: str, stored: str | None) -> str:
    """The stored hash when ``pin`` matches it, else a new salted hash."""
    return stored if stored is not None and verify_pin(pin, stored) else hash_pin(pin)


def check_address(address: str, field: str) -> None:
    """An e-mail address the 核发 message can carry to any SMTP server: ASCII only (no SMTPUTF8 needed),
    a dot-atom local part, a domain of letters, digits and hyphens — a Chinese domain in its xn-- form."""
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise InputError(
            f"「{address}」不是可用的电子邮件地址：应为英文字母、数字组成的 名称@域名（中文域名请写作 xn-- 形式）",
            field,
        )


def _check_names_and_addresses(directory: Directory) -> None:
    """Names hold no path separator (they are never paths); addresses are usable (``check_address``)."""
    named = [(a, f"agencies[{i}]") for i, a in enumerate(directory.agencies)]
    named += [(p, f"people[{i}]") for i, p in enumerate(directory.people)]
    named += [(g, f"groups[{i}]") for i, g in enumerate(directory.groups)]
    for entry, where in named:
        for key in ("name", "short"):
            name = getattr(entry, key, None)
            if name is not None and ("/" in name or "\\" in name):
                raise InputError(f"名称「{name}」不能含路径分隔符「/」或「\\」", f"{where}.{key}")
        if getattr(entry, "email", None) is not None:
            check_address(entry.email, f"{where}.email")


def _check_pin(entry: _PersonInput, index: int) -> None:
    if entry.pin and entry.pin_hash:
        raise InputError("pin 与 pin_hash 只能给一个", f"people[{index}].pin")
    if entry.pin_hash is not None and not is_pin_hash(entry.pin_hash):
        raise InputError("不是 scrypt 哈希", f"people[{index}].pin_hash")
    if not entry.pin and not entry.pin_hash:
        raise InputError("缺少 PIN（pin）", f"people[{index}].pin")


def check_references(directory: Directory) -> None:
    """Every name used in the directory exists once, nothing refers to itself, and each 机关代字 is one agency's."""
    _unique(
        [(a.name, f"agencies[{i}].name") for i, a in enumerate(directory.agencies)]
        + [(a.short, f"agencies[{i}].short") for i, a in enumerate(directory.agencies) if a.short]
    )
    _unique([(p.name, f"people[{i}].name") for i, p in enumerate(directory.people)])
    _unique([(g.name, f"groups[{i}].name") for i, g in enumerate(directory.groups)])
    _unique([(a.code, f"agencies[{i}].code") for i, a in enumerate(directory.agencies) if a.code], "机关代字")
    for i, agency in enumerate(directory.agencies):
        if agency.parent is not None:
            parent = directory.agency(agency.parent, f"agencies[{i}].parent")
            if parent.name == agency.name or directory.is_subordinate(parent, agency):
                raise InputError(f"上级机关「{agency.parent}」形成循环", f"agencies[{i}].parent")
    for i, person in enumerate(directory.people):
        directory.agency(person.agency, f"people[{i}].agency")
    for i, group in enumerate(directory.groups):
        if directory.is_agency(group.name) or group.name in directory._people:
            raise InputError(f"分组名「{group.name}」与机关或人员重名", f"groups[{i}].name")
        for j, member in enumerate(group.members):
            if not directory.knows(member):
                raise InputError(f"目录中没有机关、人员或分组「{member}」", f"groups[{i}].members[{j}]")
        _no_group_cycle(directory, group.name, [], f"groups[{i}].members")
    codes = {a.code for a in directory.agencies if a.code}
    for i, seed in enumerate(directory.counters):
        if seed.code not in codes:
            raise InputError(f"没有机关使用机关代字「{seed.code}」", f"counters[{i}].code")


def _unique(names: list[tuple[str, str]], what: str = "名称") -> None:
    """The first repeated name, by the field where it appears again."""
    seen: set[str] = set()
    for name, field in names:
        if name in seen:
            raise InputError(f"{what}「{name}」重复", field)
        seen.add(name)


def _no_group_cycle(directory: Directory, name: str, trail: list[str], field: str) -> None:
    if name in trail:
        raise InputError(f"分组「{name}」包含自身：{' → '.join([*trail, name])}", field)
    if directory.is_group(name):
        for member in directory._groups[name].members:
            _no_group_cycle(directory, member, [*trail, name], field)
