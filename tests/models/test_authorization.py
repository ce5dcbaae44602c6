"""check_decider and check_registrar: each refusal in order, with its reason; a valid person passes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from models.authorization import check_decider, check_registrar
from models.directory import Directory, Person
from models.errors import NotAllowed, RefusedDecision
from models.lifecycle import Route, Step
from models.pin import verify_pin

ROUTE = Route(review=("李红梅",), cosign=("赵丽",), sign="陈立新")
DRAFTER = "郭佳佳"


class PinProbe:
    """A pin_matches callable that records whether it was asked."""

    def __init__(self, result: bool) -> None:
        self.result = result
        self.calls: list[str] = []

    def __call__(self, person: Person) -> bool:
        self.calls.append(person.name)
        return self.result


def _check(
    kf: Directory,
    name: str,
    step: Step,
    *,
    known: bool = True,
    route: Route = ROUTE,
    drafter: str = DRAFTER,
    already: frozenset[str] = frozenset(),
    pin: Callable[[Person], bool] | None = None,
) -> Person:
    person = kf.person(name) if known else None
    return check_decider(
        name=name,
        person=person,
        step=step,
        route=route,
        drafter=drafter,
        already_approved=already,
        pin_matches=pin or PinProbe(True),
    )


def _refused(call: Callable[[], object], field: str, *parts: str) -> RefusedDecision:
    with pytest.raises(RefusedDecision) as info:
        call()
    error = info.value
    assert isinstance(error, NotAllowed) and error.exit_code == 3
    assert error.field == field
    for part in parts:
        assert part in error.message, (part, error.message)
    return error


def test_unknown_person(kf: Directory) -> None:
    probe = PinProbe(False)
    _refused(lambda: _check(kf, "无名氏", Step.REVIEW, known=False, pin=probe), "as", "目录中没有人员「无名氏」")
    assert probe.calls == []


@pytest.mark.parametrize(
    ("name", "step", "label"),
    [
        ("郭佳佳", Step.REVIEW, "核稿"),
        ("赵丽", Step.REVIEW, "核稿"),
        ("李红梅", Step.COSIGN, "会签"),
        ("李红梅", Step.SIGN, "签发"),
        ("孙敏", Step.SIGN, "签发"),
    ],
)
def test_missing_role(kf: Directory, name: str, step: Step, label: str) -> None:
    probe = PinProbe(False)
    # not on the route either: the role is checked first
    _refused(lambda: _check(kf, name, step, route=Route(), pin=probe), "as", f"「{name}」没有{label}权限")
    assert probe.calls == []


@pytest.mark.parametrize(
    ("name", "step", "parties"),
    [("张伟", Step.REVIEW, "（李红梅）"), ("刘志强", Step.SIGN, "（陈立新）")],
)
def test_not_on_route(kf: Directory, name: str, step: Step, parties: str) -> None:
    probe = PinProbe(False)
    _refused(
        lambda: _check(kf, name, step, drafter=name, already=frozenset({name}), pin=probe),
        "as",
        f"「{name}」不在本文的{step.value}人员中",
        parties,
    )
    assert probe.calls == []


def test_drafter_may_not_sign(kf: Directory) -> None:
    probe = PinProbe(False)
    _refused(
        lambda: _check(kf, "陈立新", Step.SIGN, drafter="陈立新", already=frozenset({"陈立新"}), pin=probe),
        "as",
        "拟稿人「陈立新」不能签发",
    )
    assert probe.calls == []


def test_drafter_may_review() -> None:
    # the drafter rule applies to 签发 only
    reviewer = Person(name="李红梅", agency="办公室", roles=["reviewer", "drafter"], pin_hash="x")
    decided = check_decider(
        name="李红梅",
        person=reviewer,
        step=Step.REVIEW,
        route=ROUTE,
        drafter="李红梅",
        already_approved=frozenset(),
        pin_matches=lambda p: True,
    )
    assert decided is reviewer


@pytest.mark.parametrize(("name", "step"), [("李红梅", Step.REVIEW), ("赵丽", Step.COSIGN), ("陈立新", Step.SIGN)])
def test_already_approved(kf: Directory, name: str, step: Step) -> None:
    probe = PinProbe(False)
    _refused(
        lambda: _check(kf, name, step, already=frozenset({name}), pin=probe),
        "as",
        f"「{name}」已在本轮{step.value}中表示同意",
    )
    assert probe.calls == []


@pytest.mark.parametrize(("name", "step"), [("李红梅", Step.REVIEW), ("赵丽", Step.COSIGN), ("陈立新", Step.SIGN)])
def test_wrong_pin(kf: Directory, name: str, step: Step) -> None:
    probe = PinProbe(False)
    _refused(lambda: _check(kf, name, step, already=frozenset({"别人"}), pin=probe), "pin", "PIN 不正确")
    assert probe.calls == [name]


def test_wrong_pin_with_real_hash(kf: Directory, kf_pins: dict[str, str]) -> None:
    _refused(
        lambda: _check(kf, "陈立新", Step.SIGN, pin=lambda p: verify_pin(kf_pins["刘志强"], p.pin_hash)),
        "pin",
        "PIN 不正确",
    )


@pytest.mark.parametrize(("name", "step"), [("李红梅", Step.REVIEW), ("赵丽", Step.COSIGN), ("陈立新", Step.SIGN)])
def test_valid_decider_passes(kf: Directory, kf_pins: dict[str, str], name: str, step: Step) -> None:
    person = _check(kf, name, step, already=frozenset({"张伟"}), pin=lambda p: verify_pin(kf_pins[p.name], p.pin_hash))
    assert person is kf.person(name)


def test_second_reviewer_after_first_approved(kf: Directory) -> None:
    route = Route(review=("李红梅", "张伟"), sign="陈立新")
    person = _check(kf, "张伟", Step.REVIEW, route=route, already=frozenset({"李红梅"}))
    assert person.name == "张伟"


def test_a_dispatch_correction_is_the_registrars_with_the_pin(kf: Directory, kf_pins: dict[str, str]) -> None:
    def correct(name: str, pin: str, known: bool = True) -> Person:
        person = kf.person(name) if known else None
        return check_registrar(name=name, person=person, pin_matches=lambda p: verify_pin(pin, p.pin_hash))

    _refused(lambda: correct("无名氏", "0", known=False), "as", "目录中没有人员「无名氏」")
    _refused(lambda: correct("陈立新", kf_pins["陈立新"]), "as", "「陈立新」没有核发权限", "registrar")
    _refused(lambda: correct("李红梅", kf_pins["陈立新"]), "pin", "PIN 不正确")
    assert correct("李红梅", kf_pins["李红梅"]) is kf.person("李红梅")
