"""authorize, check_decider and check_registrar: each refusal in order, with its reason; a valid person passes.

The person reaching these is already proven (name and PIN: storage.directory_store.prove)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from models.authorization import authorize, check_decider, check_registrar, check_role
from models.directory import Directory, Person
from models.errors import NotAllowed, RefusedDecision, TransitionError
from models.lifecycle import TRANSITIONS, Action, Route, State, Step
from models.vocabulary import Role

ROUTE = Route(review=("李红梅",), cosign=("赵丽",), sign="陈立新")
DRAFTER = "郭佳佳"
STATE_OF_STEP = {Step.REVIEW: State.IN_REVIEW, Step.COSIGN: State.COSIGNING, Step.SIGN: State.AWAITING_SIGNATURE}


def _check(
    kf: Directory,
    name: str,
    step: Step,
    *,
    route: Route = ROUTE,
    drafter: str = DRAFTER,
    already: frozenset[str] = frozenset(),
) -> Person:
    """A review decision as actions.deciding checks it: the table's role, then the review rules."""
    person = kf.person(name)
    authorize(person, STATE_OF_STEP[step], Action.APPROVE)
    return check_decider(person=person, step=step, route=route, drafter=drafter, already_approved=already)


def _refused(call: Callable[[], object], field: str, *parts: str) -> RefusedDecision:
    with pytest.raises(RefusedDecision) as info:
        call()
    error = info.value
    assert isinstance(error, NotAllowed) and error.exit_code == 3
    assert error.field == field
    for part in parts:
        assert part in error.message, (part, error.message)
    return error


@pytest.mark.parametrize(
    ("name", "step", "label", "role"),
    [
        ("郭佳佳", Step.REVIEW, "核稿", "reviewer"),
        ("赵丽", Step.REVIEW, "核稿", "reviewer"),
        ("李红梅", Step.COSIGN, "会签", "cosigner"),
        ("李红梅", Step.SIGN, "签发", "signer"),
        ("孙敏", Step.SIGN, "签发", "signer"),
    ],
)
def test_missing_role(kf: Directory, name: str, step: Step, label: str, role: str) -> None:
    # not on the route either: the role is checked first
    _refused(lambda: _check(kf, name, step, route=Route()), "as", f"「{name}」没有{label}权限（须有 {role} 角色）")


@pytest.mark.parametrize("action", [Action.APPROVE, Action.RETURN])
def test_a_return_needs_the_steps_role_too(kf: Directory, action: Action) -> None:
    for state, role in (
        (State.IN_REVIEW, "reviewer"),
        (State.COSIGNING, "cosigner"),
        (State.AWAITING_SIGNATURE, "signer"),
    ):
        assert authorize(kf.person({"reviewer": "李红梅", "cosigner": "赵丽", "signer": "陈立新"}[role]), state, action)
    _refused(lambda: authorize(kf.person("赵丽"), State.IN_REVIEW, action), "as", "「赵丽」没有核稿权限")


@pytest.mark.parametrize(
    ("name", "step", "parties"),
    [("张伟", Step.REVIEW, "（李红梅）"), ("刘志强", Step.SIGN, "（陈立新）")],
)
def test_not_on_route(kf: Directory, name: str, step: Step, parties: str) -> None:
    _refused(
        lambda: _check(kf, name, step, drafter=name, already=frozenset({name})),
        "as",
        f"「{name}」不在本文的{step.value}人员中",
        parties,
    )


def test_drafter_may_not_sign(kf: Directory) -> None:
    _refused(
        lambda: _check(kf, "陈立新", Step.SIGN, drafter="陈立新", already=frozenset({"陈立新"})),
        "as",
        "拟稿人「陈立新」不能签发",
    )


def test_drafter_may_review() -> None:
    # the drafter rule applies to 签发 only
    reviewer = Person(name="李红梅", agency="办公室", roles=["reviewer", "drafter"], pin_hash="x")
    decided = check_decider(
        person=reviewer, step=Step.REVIEW, route=ROUTE, drafter="李红梅", already_approved=frozenset()
    )
    assert decided is reviewer


def test_check_decider_leaves_the_role_to_authorize(kf: Directory) -> None:
    # on the route, but without the role: authorize refuses it, check_decider does not look
    route = Route(review=("孙敏",), sign="陈立新")
    person = kf.person("孙敏")
    assert check_decider(person=person, step=Step.REVIEW, route=route, drafter=DRAFTER, already_approved=frozenset())
    _refused(lambda: authorize(person, State.IN_REVIEW, Action.APPROVE), "as", "「孙敏」没有核稿权限")


@pytest.mark.parametrize(("name", "step"), [("李红梅", Step.REVIEW), ("赵丽", Step.COSIGN), ("陈立新", Step.SIGN)])
def test_already_approved(kf: Directory, name: str, step: Step) -> None:
    _refused(
        lambda: _check(kf, name, step, already=frozenset({name})),
        "as",
        f"「{name}」已在本轮{step.value}中表示同意",
    )


@pytest.mark.parametrize(("name", "step"), [("李红梅", Step.REVIEW), ("赵丽", Step.COSIGN), ("陈立新", Step.SIGN)])
def test_valid_decider_passes(kf: Directory, name: str, step: Step) -> None:
    person = _check(kf, name, step, already=frozenset({"张伟"}))
    assert person is kf.person(name)


def test_second_reviewer_after_first_approved(kf: Directory) -> None:
    route = Route(review=("李红梅", "张伟"), sign="陈立新")
    person = _check(kf, "张伟", Step.REVIEW, route=route, already=frozenset({"李红梅"}))
    assert person.name == "张伟"


@pytest.mark.parametrize(("state", "action"), [(State.DRAFT, Action.APPROVE), (State.SIGNED, Action.WITHDRAW)])
def test_a_state_that_does_not_allow_the_action_is_a_transition_error_before_the_role(
    kf: Directory, state: State, action: Action
) -> None:
    with pytest.raises(TransitionError) as info:
        authorize(kf.person("孙敏"), state, action, drafter=DRAFTER)
    assert info.value.field == "state"


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.DRAFT, Action.SUBMIT),
        (State.DRAFT, Action.REVISE),
        (State.DRAFT, Action.WITHDRAW),
        (State.IN_REVIEW, Action.WITHDRAW),
        (State.AWAITING_SIGNATURE, Action.WITHDRAW),
    ],
)
def test_the_drafters_actions_are_the_documents_own_drafters(kf: Directory, state: State, action: Action) -> None:
    drafter = kf.person(DRAFTER)
    assert authorize(drafter, state, action, drafter=DRAFTER) == TRANSITIONS[(state, action)]
    other = drafter.model_copy(update={"name": "别人"})  # holds the 拟稿 role, did not draft this one
    _refused(
        lambda: authorize(other, state, action, drafter=DRAFTER), "as", f"只有拟稿人「{DRAFTER}」可以{action.label}"
    )
    _refused(
        lambda: authorize(kf.person("李红梅"), state, action, drafter=DRAFTER),
        "as",
        f"「李红梅」没有{action.label}权限（须有 drafter 角色）",
    )


def test_check_role(kf: Directory) -> None:
    assert check_role(kf.person(DRAFTER), Role.DRAFTER, "拟稿") is kf.person(DRAFTER)
    _refused(
        lambda: check_role(kf.person("李红梅"), Role.DRAFTER, "拟稿"),
        "as",
        "「李红梅」没有拟稿权限（须有 drafter 角色）",
    )


def test_a_dispatch_correction_is_the_registrars(kf: Directory) -> None:
    _refused(lambda: check_registrar(kf.person("陈立新")), "as", "「陈立新」没有核发权限", "registrar")
    assert check_registrar(kf.person("李红梅")) is kf.person("李红梅")
