"""The lifecycle transition table: every (State, Action) pair, multi-party steps, skips."""

from __future__ import annotations

import itertools

import pytest

from models.errors import NotAllowed, TransitionError
from models.lifecycle import (
    Action,
    Progress,
    Route,
    State,
    Step,
    allowed_actions,
    next_state,
    transition,
)
from models.vocabulary import Role

# Written out by hand from the issue and the module docstring, not derived from TRANSITIONS.
STATE_LABEL = {
    "draft": "草稿",
    "in_review": "核稿",
    "cosigning": "会签",
    "awaiting_signature": "待签发",
    "signed": "已签发",
    "registered": "已登记",
    "printed": "已印制",
    "archived": "已归档",
    "dispatched": "已核发",
    "withdrawn": "已撤销",
}
ACTION_LABEL = {
    "submit": "送审",
    "revise": "修改",
    "approve": "同意",
    "return": "退回修改",
    "withdraw": "撤销",
    "register": "登记",
    "print": "印制",
    "archive": "归档",
    "dispatch": "核发",
}
# (state, action) -> (target, role allowed to act)
EXPECTED = {
    ("draft", "submit"): ("in_review", "drafter"),
    ("draft", "revise"): ("draft", "drafter"),
    ("draft", "withdraw"): ("withdrawn", "drafter"),
    ("in_review", "approve"): ("cosigning", "reviewer"),
    ("in_review", "return"): ("draft", "reviewer"),
    ("in_review", "withdraw"): ("withdrawn", "drafter"),
    ("cosigning", "approve"): ("awaiting_signature", "cosigner"),
    ("cosigning", "return"): ("draft", "cosigner"),
    ("cosigning", "withdraw"): ("withdrawn", "drafter"),
    ("awaiting_signature", "approve"): ("signed", "signer"),
    ("awaiting_signature", "return"): ("draft", "signer"),
    ("awaiting_signature", "withdraw"): ("withdrawn", "drafter"),
    ("signed", "register"): ("registered", "registrar"),
    ("registered", "print"): ("printed", "registrar"),
    ("printed", "archive"): ("archived", "registrar"),
    ("archived", "dispatch"): ("dispatched", "registrar"),
}
ALL_PAIRS = list(itertools.product(STATE_LABEL, ACTION_LABEL))
ALLOWED = [pair for pair in ALL_PAIRS if pair in EXPECTED]
FORBIDDEN = [pair for pair in ALL_PAIRS if pair not in EXPECTED]

FULL_ROUTE = Route(review=("李红梅", "张伟"), cosign=("赵丽", "王芳"), sign="陈立新")


def test_states_and_actions_are_exactly_these() -> None:
    assert [s.value for s in State] == list(STATE_LABEL)
    assert [a.value for a in Action] == list(ACTION_LABEL)
    assert len(ALL_PAIRS) == 90 and len(ALLOWED) == 16 and len(FORBIDDEN) == 74


@pytest.mark.parametrize("state", list(STATE_LABEL))
def test_state_labels(state: str) -> None:
    assert State(state).label == STATE_LABEL[state]


@pytest.mark.parametrize("action", list(ACTION_LABEL))
def test_action_labels(action: str) -> None:
    assert Action(action).label == ACTION_LABEL[action]


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_allowed_pair_goes_to_expected_target(state: str, action: str) -> None:
    target, role = EXPECTED[(state, action)]
    entry = transition(State(state), Action(action))
    assert entry.target is State(target)
    assert entry.role is Role(role)
    # With the full route and every party of the step approved, next_state agrees.
    approved: tuple[str, ...] = ()
    if action == "approve":
        approved = {
            "in_review": FULL_ROUTE.review,
            "cosigning": FULL_ROUTE.cosign,
            "awaiting_signature": (FULL_ROUTE.sign,),
        }[state]
    assert next_state(State(state), Action(action), FULL_ROUTE, approved) is State(target)


@pytest.mark.parametrize(("state", "action"), FORBIDDEN)
def test_forbidden_pair_raises_naming_state_and_action(state: str, action: str) -> None:
    for call in (
        lambda: transition(State(state), Action(action)),
        lambda: next_state(State(state), Action(action), FULL_ROUTE, ("李红梅", "张伟", "赵丽", "王芳", "陈立新")),
    ):
        with pytest.raises(TransitionError) as info:
            call()
        error = info.value
        assert isinstance(error, NotAllowed) and error.exit_code == 3
        assert f"「{STATE_LABEL[state]}」" in error.message
        assert f"「{ACTION_LABEL[action]}」" in error.message
        assert error.field == "state"


ALLOWED_ACTIONS = {
    "draft": ("submit", "revise", "withdraw"),
    "in_review": ("approve", "return", "withdraw"),
    "cosigning": ("approve", "return", "withdraw"),
    "awaiting_signature": ("approve", "return", "withdraw"),
    "signed": ("register",),
    "registered": ("print",),
    "printed": ("archive",),
    "archived": ("dispatch",),
    "dispatched": (),
    "withdrawn": (),
}


@pytest.mark.parametrize("state", list(ALLOWED_ACTIONS))
def test_allowed_actions(state: str) -> None:
    assert allowed_actions(State(state)) == tuple(Action(a) for a in ALLOWED_ACTIONS[state])


# -- multi-party steps ------------------------------------------------------------

REVIEWERS = ("甲", "乙", "丙")
COSIGNERS = ("丁", "戊", "己")


@pytest.mark.parametrize("order", list(itertools.permutations(REVIEWERS)))
def test_review_stays_until_every_reviewer_approved_in_any_order(order: tuple[str, ...]) -> None:
    route = Route(review=REVIEWERS, cosign=COSIGNERS, sign="庚")
    approved: list[str] = []
    for person in order[:-1]:
        approved.append(person)
        assert next_state(State.IN_REVIEW, Action.APPROVE, route, approved) is State.IN_REVIEW
    approved.append(order[-1])
    assert next_state(State.IN_REVIEW, Action.APPROVE, route, approved) is State.COSIGNING


@pytest.mark.parametrize("order", list(itertools.permutations(COSIGNERS)))
def test_cosign_stays_until_every_cosigner_approved_in_any_order(order: tuple[str, ...]) -> None:
    route = Route(review=REVIEWERS, cosign=COSIGNERS, sign="庚")
    approved: list[str] = []
    for person in order[:-1]:
        approved.append(person)
        assert next_state(State.COSIGNING, Action.APPROVE, route, approved) is State.COSIGNING
    approved.append(order[-1])
    assert next_state(State.COSIGNING, Action.APPROVE, route, approved) is State.AWAITING_SIGNATURE


def test_approvals_of_people_off_the_route_do_not_count() -> None:
    route = Route(review=("甲", "乙"), cosign=(), sign="庚")
    assert next_state(State.IN_REVIEW, Action.APPROVE, route, {"甲", "丁", "庚"}) is State.IN_REVIEW
    assert next_state(State.AWAITING_SIGNATURE, Action.APPROVE, route, {"甲"}) is State.AWAITING_SIGNATURE
    assert next_state(State.AWAITING_SIGNATURE, Action.APPROVE, route, {"庚"}) is State.SIGNED


def test_progress_pending_keeps_route_order() -> None:
    route = Route(review=("甲", "乙", "丙"), cosign=("丁",), sign="庚")
    assert Progress(frozenset({"乙"})).pending(route, Step.REVIEW) == ("甲", "丙")
    assert Progress().pending(route, Step.SIGN) == ("庚",)
    assert Progress(frozenset({"丁"})).pending(route, Step.COSIGN) == ()
    assert route.parties(Step.COSIGN) == ("丁",)


# -- empty steps are skipped ------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "route", "approved", "expected"),
    [
        # no 核稿 parties: submit goes straight to 会签
        (State.DRAFT, Action.SUBMIT, Route(review=(), cosign=("丁",), sign="庚"), (), State.COSIGNING),
        # no 核稿 and no 会签: submit goes straight to 待签发
        (State.DRAFT, Action.SUBMIT, Route(review=(), cosign=(), sign="庚"), (), State.AWAITING_SIGNATURE),
        # 核稿 done, no 会签: to 待签发
        (
            State.IN_REVIEW,
            Action.APPROVE,
            Route(review=("甲",), cosign=(), sign="庚"),
            ("甲",),
            State.AWAITING_SIGNATURE,
        ),
        # with parties nothing is skipped
        (State.DRAFT, Action.SUBMIT, Route(review=("甲",), cosign=(), sign="庚"), (), State.IN_REVIEW),
        (State.IN_REVIEW, Action.APPROVE, Route(review=("甲",), cosign=("丁",), sign="庚"), ("甲",), State.COSIGNING),
        # 签发 is never skipped, even with an empty signer
        (State.DRAFT, Action.SUBMIT, Route(review=(), cosign=(), sign=""), (), State.AWAITING_SIGNATURE),
    ],
)
def test_empty_review_steps_are_skipped(
    state: State, action: Action, route: Route, approved: tuple[str, ...], expected: State
) -> None:
    assert next_state(state, action, route, approved) is expected


# -- return and withdraw ----------------------------------------------------------


@pytest.mark.parametrize("state", [State.IN_REVIEW, State.COSIGNING, State.AWAITING_SIGNATURE])
@pytest.mark.parametrize("approved", [(), ("李红梅",), ("李红梅", "张伟", "赵丽", "王芳", "陈立新")])
def test_return_from_each_review_step_goes_to_draft(state: State, approved: tuple[str, ...]) -> None:
    assert next_state(state, Action.RETURN, FULL_ROUTE, approved) is State.DRAFT
    # the next round starts at 核稿 again
    assert next_state(State.DRAFT, Action.SUBMIT, FULL_ROUTE) is State.IN_REVIEW


@pytest.mark.parametrize(
    ("state", "allowed"),
    [
        (State.DRAFT, True),
        (State.IN_REVIEW, True),
        (State.COSIGNING, True),
        (State.AWAITING_SIGNATURE, True),
        (State.SIGNED, False),
        (State.REGISTERED, False),
        (State.PRINTED, False),
        (State.DISPATCHED, False),
        (State.ARCHIVED, False),
        (State.WITHDRAWN, False),
    ],
)
def test_withdraw_only_before_signing(state: State, allowed: bool) -> None:
    if allowed:
        assert next_state(state, Action.WITHDRAW, FULL_ROUTE) is State.WITHDRAWN
    else:
        with pytest.raises(TransitionError, match="撤销"):
            next_state(state, Action.WITHDRAW, FULL_ROUTE)


def test_whole_route_walk() -> None:
    route = Route(review=("李红梅",), cosign=("赵丽",), sign="陈立新")
    state = next_state(State.DRAFT, Action.SUBMIT, route)
    assert state is State.IN_REVIEW
    state = next_state(state, Action.APPROVE, route, {"李红梅"})
    assert state is State.COSIGNING
    state = next_state(state, Action.APPROVE, route, {"赵丽"})
    assert state is State.AWAITING_SIGNATURE
    state = next_state(state, Action.APPROVE, route, {"陈立新"})
    assert state is State.SIGNED
    for action, expected in [
        (Action.REGISTER, State.REGISTERED),
        (Action.PRINT, State.PRINTED),
        (Action.ARCHIVE, State.ARCHIVED),
        (Action.DISPATCH, State.DISPATCHED),
    ]:
        state = next_state(state, action, route)
        assert state is expected
