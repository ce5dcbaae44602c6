"""Who may decide a review step (核稿 / 会签 / 签发), and who may correct a 核发, checked before it is recorded.

Open-source Prefect has no per-user login, so every decision names a person and
gives their PIN, and gongwen checks, in this order:

1. the person is in the directory;
2. they hold the role of the step (reviewer / cosigner / signer);
3. they are on the document's 审批路径 for that step;
4. they do not 签发 a document they drafted themselves (拟稿人不得签发本人拟稿);
5. they have not already approved this step in this round;
6. the PIN matches.

Each refusal raises ``RefusedDecision`` with the reason; the caller audits it.

Correcting a 核发 by hand — settling a delivery whose sending is uncertain, or
sending a 失败 delivery again — is the registrar's: the lifecycle gives 核发
(已归档 → 已核发) to the ``registrar`` role (models.lifecycle). ``check_registrar``
checks that the person is in the directory, holds that role and gives their PIN.
"""

from __future__ import annotations

from collections.abc import Callable

from models.directory import Person
from models.errors import RefusedDecision
from models.lifecycle import ROLE_OF_STEP, TRANSITIONS, Action, Route, State, Step


def check_decider(
    *,
    name: str,
    person: Person | None,
    step: Step,
    route: Route,
    drafter: str,
    already_approved: frozenset[str],
    pin_matches: Callable[[Person], bool],
) -> Person:
    """The deciding person, or RefusedDecision saying why they may not decide."""
    if person is None:
        raise RefusedDecision(f"目录中没有人员「{name}」", "as")
    if not person.has_role(ROLE_OF_STEP[step]):
        raise RefusedDecision(f"「{name}」没有{step.value}权限", "as")
    if name not in route.parties(step):
        parties = "、".join(route.parties(step))
        raise RefusedDecision(f"「{name}」不在本文的{step.value}人员中（{parties}）", "as")
    if step is Step.SIGN and name == drafter:
        raise RefusedDecision(f"拟稿人「{name}」不能签发本人拟稿的公文", "as")
    if name in already_approved:
        raise RefusedDecision(f"「{name}」已在本轮{step.value}中表示同意", "as")
    if not pin_matches(person):
        raise RefusedDecision("PIN 不正确", "pin")
    return person


def check_registrar(*, name: str, person: Person | None, pin_matches: Callable[[Person], bool]) -> Person:
    """The person correcting a 核发 (the role of 已归档 → 已核发), or RefusedDecision saying why they may not."""
    role = TRANSITIONS[(State.ARCHIVED, Action.DISPATCH)].role
    if person is None:
        raise RefusedDecision(f"目录中没有人员「{name}」", "as")
    if not person.has_role(role):
        raise RefusedDecision(f"「{name}」没有核发权限（须有 {role.value} 角色）", "as")
    if not pin_matches(person):
        raise RefusedDecision("PIN 不正确", "pin")
    return person
