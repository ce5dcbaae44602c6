"""Who may take an action on a document: one table-driven ``authorize``, and the rules of the review steps.

The lifecycle table (models.lifecycle.TRANSITIONS) names the role of every action:
送审 and 撤销 are the drafter's (and only the document's own drafter may take them),
核稿/会签/签发 the reviewer's, cosigner's and signer's, 登记 → 核发 the registrar's.
``authorize`` checks a proven person (storage.directory_store.prove has checked the
name and the PIN first) against that table:

1. the state allows the action (TransitionError otherwise);
2. the person holds the action's role;
3. for the drafter's actions, the person is the document's drafter.

A review decision (核稿 / 会签 / 签发) then passes ``check_decider``:

4. the person is on the document's 审批路径 for that step;
5. they do not 签发 a document they drafted themselves (拟稿人不得签发本人拟稿);
6. they have not already approved this step in this round.

Correcting a 核发 by hand (settling an uncertain delivery, sending a 失败 one again) is
the registrar's: ``check_registrar``, the role of 已归档 → 已核发.
Each refusal raises ``RefusedDecision`` (or ``TransitionError``) with the reason; the
caller audits it (storage.audit_log.refusals_audited).
"""

from __future__ import annotations

from models.directory import Person
from models.errors import RefusedDecision
from models.lifecycle import STEP_OF_STATE, TRANSITIONS, Action, Route, State, Step, Transition, transition
from models.vocabulary import Role


def check_role(person: Person, role: Role, what: str) -> Person:
    """The person, or RefusedDecision if they lack ``role`` (``what``: the action, for the message)."""
    if not person.has_role(role):
        raise RefusedDecision(f"「{person.name}」没有{what}权限（须有 {role.value} 角色）", "as")
    return person


def authorize(person: Person, state: State, action: Action, *, drafter: str | None = None) -> Transition:
    """The table entry for ``action`` in ``state``, if ``person`` may take it (see the module docstring)."""
    entry = transition(state, action)
    decides_step = action in (Action.APPROVE, Action.RETURN)
    what = STEP_OF_STATE[state].value if decides_step else action.label
    check_role(person, entry.role, what)
    if entry.role is Role.DRAFTER and drafter is not None and person.name != drafter:
        raise RefusedDecision(f"只有拟稿人「{drafter}」可以{action.label}", "as")
    return entry


def check_decider(
    *, person: Person, step: Step, route: Route, drafter: str, already_approved: frozenset[str]
) -> Person:
    """The deciding person, or RefusedDecision saying why they may not decide this step now."""
    name = person.name
    if name not in route.parties(step):
        parties = "、".join(route.parties(step))
        raise RefusedDecision(f"「{name}」不在本文的{step.value}人员中（{parties}）", "as")
    if step is Step.SIGN and name == drafter:
        raise RefusedDecision(f"拟稿人「{name}」不能签发本人拟稿的公文", "as")
    if name in already_approved:
        raise RefusedDecision(f"「{name}」已在本轮{step.value}中表示同意", "as")
    return person


def check_registrar(person: Person) -> Person:
    """The person correcting a 核发 (the role of 已归档 → 已核发), or RefusedDecision."""
    return check_role(person, TRANSITIONS[(State.ARCHIVED, Action.DISPATCH)].role, "核发")
