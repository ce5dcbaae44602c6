"""The 公文 lifecycle (发文办理, 条例 第二十四条) as one transition table.

    草稿 draft ──submit──▶ 核稿 in_review ──approve──▶ 会签 cosigning ──approve──▶
    待签发 awaiting_signature ──approve (签发)──▶ 已签发 signed ──register──▶
    已登记 registered ──print──▶ 已印制 printed ──archive──▶ 已归档 archived
    ──dispatch──▶ 已核发 dispatched

The issued original is archived before it is sent, so what recipients get is
what auditors can fetch and verify; receipts (签收) and reminders (催办) after
dispatch are kept in the audit log beside it.

- ``return`` (退回修改) in any review step sends the document back to 草稿; its
  decisions stay in the history and the next round starts afresh.
- ``revise`` (修改) makes a new content version of a 草稿; only a 草稿 can change.
- ``withdraw`` (撤销) ends a document that has not been signed.
- A review step with nobody on the route (no 核稿 or no 会签 parties) is skipped.
- A step with several parties (核稿, 会签) is complete when each has approved,
  in any order.

``next_state`` is the single entry point; an action the table does not allow
raises ``TransitionError`` naming the state and the action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from models.errors import TransitionError
from models.vocabulary import Role


class State(StrEnum):
    """办理状态 of a document."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    COSIGNING = "cosigning"
    AWAITING_SIGNATURE = "awaiting_signature"
    SIGNED = "signed"
    REGISTERED = "registered"
    PRINTED = "printed"
    ARCHIVED = "archived"
    DISPATCHED = "dispatched"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    State.DRAFT: "草稿",
    State.IN_REVIEW: "核稿",
    State.COSIGNING: "会签",
    State.AWAITING_SIGNATURE: "待签发",
    State.SIGNED: "已签发",
    State.REGISTERED: "已登记",
    State.PRINTED: "已印制",
    State.ARCHIVED: "已归档",
    State.DISPATCHED: "已核发",
    State.WITHDRAWN: "已撤销",
}


class Action(StrEnum):
    """Actions on a document."""

    SUBMIT = "submit"
    REVISE = "revise"
    APPROVE = "approve"
    RETURN = "return"
    WITHDRAW = "withdraw"
    REGISTER = "register"
    PRINT = "print"
    ARCHIVE = "archive"
    DISPATCH = "dispatch"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.SUBMIT: "送审",
    Action.REVISE: "修改",
    Action.APPROVE: "同意",
    Action.RETURN: "退回修改",
    Action.WITHDRAW: "撤销",
    Action.REGISTER: "登记",
    Action.PRINT: "印制",
    Action.ARCHIVE: "归档",
    Action.DISPATCH: "核发",
}


class Step(StrEnum):
    """Review steps that take a person's decision: 核稿, 会签, 签发."""

    REVIEW = "核稿"
    COSIGN = "会签"
    SIGN = "签发"


#: The review step each state waits for, and the role that decides it.
STEP_OF_STATE: dict[State, Step] = {
    State.IN_REVIEW: Step.REVIEW,
    State.COSIGNING: Step.COSIGN,
    State.AWAITING_SIGNATURE: Step.SIGN,
}
ROLE_OF_STEP: dict[Step, Role] = {
    Step.REVIEW: Role.REVIEWER,
    Step.COSIGN: Role.COSIGNER,
    Step.SIGN: Role.SIGNER,
}


@dataclass(frozen=True)
class Transition:
    """Where an action leads and which role may take it."""

    target: State
    role: Role


_REVIEWING = (State.IN_REVIEW, State.COSIGNING, State.AWAITING_SIGNATURE)
_NEXT_AFTER_STEP = {
    State.IN_REVIEW: State.COSIGNING,
    State.COSIGNING: State.AWAITING_SIGNATURE,
    State.AWAITING_SIGNATURE: State.SIGNED,
}

TRANSITIONS: dict[tuple[State, Action], Transition] = {
    (State.DRAFT, Action.SUBMIT): Transition(State.IN_REVIEW, Role.DRAFTER),
    (State.DRAFT, Action.REVISE): Transition(State.DRAFT, Role.DRAFTER),
    **{
        (state, Action.APPROVE): Transition(_NEXT_AFTER_STEP[state], ROLE_OF_STEP[STEP_OF_STATE[state]])
        for state in _REVIEWING
    },
    **{(state, Action.RETURN): Transition(State.DRAFT, ROLE_OF_STEP[STEP_OF_STATE[state]]) for state in _REVIEWING},
    **{(state, Action.WITHDRAW): Transition(State.WITHDRAWN, Role.DRAFTER) for state in (State.DRAFT, *_REVIEWING)},
    (State.SIGNED, Action.REGISTER): Transition(State.REGISTERED, Role.REGISTRAR),
    (State.REGISTERED, Action.PRINT): Transition(State.PRINTED, Role.REGISTRAR),
    (State.PRINTED, Action.ARCHIVE): Transition(State.ARCHIVED, Role.REGISTRAR),
    (State.ARCHIVED, Action.DISPATCH): Transition(State.DISPATCHED, Role.REGISTRAR),
}


@dataclass(frozen=True)
class Route:
    """审批路径: who reviews (核稿), who co-signs (会签), who signs (签发)."""

    review: tuple[str, ...] = ()
    cosign: tuple[str, ...] = ()
    sign: str = ""

    def parties(self, step: Step) -> tuple[str, ...]:
        """The people who decide a step."""
        return {Step.REVIEW: self.review, Step.COSIGN: self.cosign, Step.SIGN: (self.sign,)}[step]


@dataclass(frozen=True)
class Progress:
    """Approvals given so far in the current round of the current step."""

    approved: frozenset[str] = field(default_factory=frozenset)

    def pending(self, route: Route, step: Step) -> tuple[str, ...]:
        return tuple(p for p in route.parties(step) if p not in self.approved)


def transition(state: State, action: Action) -> Transition:
    """The table entry for (state, action), or TransitionError naming both."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionError(f"公文处于「{state.label}」状态，不能执行「{action.label}」", "state") from None


def allowed_actions(state: State) -> tuple[Action, ...]:
    """Actions the table allows in a state, in table order."""
    return tuple(action for (s, action) in TRANSITIONS if s is state)


def next_state(state: State, action: Action, route: Route, approved: Iterable[str] = ()) -> State:
    """The state after ``action``; ``approved`` is who has approved this step so far.

    An approval leaves a multi-party step where it is until every party on the
    route has approved; steps with no party are skipped.
    """
    entry = transition(state, action)
    if action is Action.APPROVE:
        step = STEP_OF_STATE[state]
        if Progress(frozenset(approved)).pending(route, step):
            return state
    return _skip_empty_steps(entry.target, route)


def _skip_empty_steps(state: State, route: Route) -> State:
    while state in STEP_OF_STATE and STEP_OF_STATE[state] is not Step.SIGN:
        if route.parties(STEP_OF_STATE[state]):
            return state
        state = _NEXT_AFTER_STEP[state]
    return state
