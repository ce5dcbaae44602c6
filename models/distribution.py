"""核发, 签收 and 催办 rules (条例 第二十四条 发文办理: 核发; 第二十五条 收文办理: 签收, 催办), pure.

- ``resolve_recipients``: the names and groups of 主送 (``to``), 抄报 (``cc_report``) and
  抄送 (``cc``) expand through the directory (models.directory) to agencies and people.
  A recipient reached through several lists is one recipient holding all its roles
  (in the order 主送, 抄报, 抄送), so it gets one message. A name the directory does not
  know, or a recipient without an e-mail address, is an InputError naming the field
  (``cc[0]``): dispatch checks every recipient before it sends anything.
- ``address_of``: the address the directory gives one recipient now, for sending a
  失败 delivery again after the office corrected the directory.
- ``chase``: the 催办 decision for one sent, unacknowledged delivery at a given time.
  A delivery is overdue ``remind_after`` after it was sent; it is reminded then and
  again each ``remind_after`` after the last reminder; once ``escalate_after``
  reminders went unanswered, the next due step is one escalation to the issuer's
  office instead, and after that it is only listed as overdue.
- ``issuer_office``: who receives escalations — the issuer's 办事机构, i.e. the agency
  whose superior is the issuer and whose name ends with 办公室 or 办公厅 (开封市…领导小组
  → 开封市…领导小组办公室); without one, the issuer itself.
- ``new_ack_code`` / ``ack_code_hash``: the 签收码, unguessable (``secrets``), kept only
  as its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum

from models.directory import Agency, Directory, Person
from models.errors import InputError


class RecipientRole(StrEnum):
    """How a recipient is addressed: 主送, 抄报 or 抄送 (the spec's field name)."""

    TO = "to"
    CC_REPORT = "cc_report"
    CC = "cc"

    @property
    def label(self) -> str:
        return {RecipientRole.TO: "主送", RecipientRole.CC_REPORT: "抄报", RecipientRole.CC: "抄送"}[self]


class DeliveryStatus(StrEnum):
    """办理状态 of one delivery."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    ACKNOWLEDGED = "acknowledged"

    @property
    def label(self) -> str:
        return {
            DeliveryStatus.PENDING: "待发送",
            DeliveryStatus.SENT: "已发送",
            DeliveryStatus.FAILED: "失败",
            DeliveryStatus.ACKNOWLEDGED: "已签收",
        }[self]


@dataclass(frozen=True)
class Recipient:
    """One addressee of a dispatch: a directory name, its address and its roles."""

    name: str
    address: str
    roles: tuple[RecipientRole, ...]


def roles_label(roles: tuple[RecipientRole, ...] | list[str]) -> str:
    """``主送、抄送``: the roles as people read them."""
    return "、".join(RecipientRole(role).label for role in roles)


def resolve_recipients(directory: Directory, *, to: list[str], cc_report: list[str], cc: list[str]) -> list[Recipient]:
    """Every recipient of a document once, with all its roles; InputError naming the first bad field."""
    found: dict[str, tuple[str, list[RecipientRole]]] = {}
    for role, names in ((RecipientRole.TO, to), (RecipientRole.CC_REPORT, cc_report), (RecipientRole.CC, cc)):
        for index, name in enumerate(names):
            field = f"{role.value}[{index}]"
            for item in directory.expand(name, field):
                address, roles = found.setdefault(item.name, (_email(item, field, via=name), []))
                if role not in roles:
                    roles.append(role)
    return [Recipient(name, address, tuple(roles)) for name, (address, roles) in found.items()]


def address_of(directory: Directory, recipient: str, field: str = "recipient") -> str:
    """The e-mail address the directory now gives ``recipient`` (an agency or a person, by its full name)."""
    item = directory.agency(recipient, field) if directory.is_agency(recipient) else directory.person(recipient, field)
    return _email(item, field)


def _email(item: Agency | Person, field: str, via: str | None = None) -> str:
    if not item.email:
        through = f"（经由「{via}」）" if via and via != item.name else ""
        raise InputError(f"「{item.name}」没有电子邮件地址，无法分发{through}", field)
    return item.email


def issuer_office(directory: Directory, issuer: str) -> Agency:
    """The agency that receives 催办 escalations for documents of ``issuer`` (rule in the module docstring)."""
    agency = directory.agency(issuer, "issuer")
    offices = [
        a for a in directory.agencies if a.parent == agency.name and a.name.endswith(("办公室", "办公厅")) and a.email
    ]
    return offices[0] if offices else agency


class Chase(StrEnum):
    """What 催办 does about one delivery now."""

    WAIT = "wait"
    REMIND = "remind"
    ESCALATE = "escalate"


@dataclass(frozen=True)
class ChasePolicy:
    """催办 settings: remind ``remind_after`` after sending (and after each reminder); escalate after M reminders."""

    remind_after: dt.timedelta
    escalate_after: int

    def overdue(self, sent_at: dt.datetime, now: dt.datetime) -> bool:
        """Sent at least ``remind_after`` ago (and, the caller knows, not acknowledged)."""
        return now - sent_at >= self.remind_after


def chase(
    policy: ChasePolicy,
    *,
    sent_at: dt.datetime,
    reminded_at: dt.datetime | None,
    reminders: int,
    escalated: bool,
    now: dt.datetime,
) -> Chase:
    """The 催办 step due for a sent, unacknowledged delivery at ``now``."""
    if escalated or not policy.overdue(reminded_at or sent_at, now):
        return Chase.WAIT
    return Chase.REMIND if reminders < policy.escalate_after else Chase.ESCALATE


def ack_code_hash(code: str) -> str:
    """The SHA-256 of a 签收码: the only form in which it is stored."""
    return hashlib.sha256(code.strip().encode()).hexdigest()


def new_ack_code() -> tuple[str, str]:
    """A fresh 签收码 and its hash."""
    code = secrets.token_urlsafe(16)
    return code, ack_code_hash(code)
