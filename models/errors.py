"""One exception tree for gongwen, picklable so Prefect can carry failures.

    GongwenError
    ├── InputError            bad input: names the field and the reason (exit 2)
    │   └── NotFound          an id, reference or name that does not exist (exit 2)
    ├── NotAllowed            not allowed now (exit 3)
    │   ├── TransitionError   the lifecycle has no such action in this state
    │   ├── RefusedDecision   wrong person, missing role, drafter signing, wrong PIN, PIN locked
    │   │   └── WrongPin      a PIN that does not match (counted toward the PIN lockout)
    │   ├── ArchiveLocked     a stored version under retention or legal hold
    │   ├── StoreRefused      the archive store refuses gongwen's key (no permission for the request)
    │   └── ChannelRefused    the mail server refuses gongwen itself (login, TLS, sender address)
    ├── VerificationFailed    a check of stored data failed (exit 1)
    ├── DeliveryRejected      the mail server refused one recipient for good (5xx)
    ├── DeliveryUncertain     the connection was lost after a whole message went: maybe delivered
    └── ServiceUnavailable    archive store, mail server or database unreachable: transient (exit 4)
        └── DeliveryDeferred  a message not accepted this time (4xx, connection lost)

Every error carries a Chinese message for the people who read it and, where it
applies, the dotted path of the input field it is about.
"""

from __future__ import annotations


class GongwenError(Exception):
    """Base of every error gongwen raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}：{self.message}" if self.field else self.message

    def __reduce__(self):
        return (self.__class__, (self.message, self.field))


class InputError(GongwenError):
    """Bad input (spec, directory, command argument): nothing is written."""

    exit_code = 2


class NotFound(InputError):
    """A document, reference number, person or agency that does not exist."""


class NotAllowed(GongwenError):
    """A well-formed request that may not be carried out now."""

    exit_code = 3


class TransitionError(NotAllowed):
    """The lifecycle has no transition for this (state, action) pair."""


class RefusedDecision(NotAllowed):
    """A 核稿/会签/签发 decision or a 核发 correction refused: unknown person, missing role, wrong PIN."""


class WrongPin(RefusedDecision):
    """A PIN that does not match the directory's hash: each one counts toward the person's PIN lockout
    (storage.pin_lockout), recorded with the refusal's audit entry (storage.audit_log.refusals_audited)."""


class ArchiveLocked(NotAllowed):
    """A version under retention (保管期限) or legal hold may not be deleted or replaced."""


class StoreRefused(NotAllowed):
    """归档: the archive store refuses gongwen's key — a read-only (auditor's) key, a bucket policy that
    does not grant the request, a wrong key. Nothing is stored until the settings are fixed."""


class ChannelRefused(NotAllowed):
    """核发: the mail server refuses the channel itself — wrong password, certificate not trusted, sending
    address not allowed. No message can go until the settings are fixed; no recipient is to blame."""


class VerificationFailed(GongwenError):
    """A verification of stored data (audit chain, 四性检测) failed."""

    exit_code = 1


class ServiceUnavailable(GongwenError):
    """An outside service (archive store, mail server, database) did not answer; try again later."""

    exit_code = 4


class StillWaiting(ServiceUnavailable):
    """A flow run has not yet done what a command waits for (GONGWEN_WAIT_SECONDS); it may still do it."""


class DeliveryRejected(GongwenError):
    """核发: the mail server refused a message for good (5xx); sending it again will not help."""


class DeliveryUncertain(GongwenError):
    """核发: the connection was lost after the whole message went, before the server's answer: it may
    have been delivered, so it is not sent again (the delivery stays uncertain until a person settles it)."""


class DeliveryDeferred(ServiceUnavailable):
    """核发: a message was not accepted this time (4xx, server down, connection lost); retry later."""


def as_record(error: GongwenError) -> dict[str, str | None]:
    """An error as plain data (its kind, message and field), to carry a refusal across processes —
    a lifecycle run's answer to a form, read by the command that sent it."""
    return {"kind": type(error).__name__, "message": error.message, "field": error.field}


def from_record(record: dict[str, str | None]) -> GongwenError:
    """The error ``as_record`` wrote (a kind this module does not define comes back as NotAllowed)."""
    kind = globals().get(str(record.get("kind")))
    cls = kind if isinstance(kind, type) and issubclass(kind, GongwenError) else NotAllowed
    return cls(str(record.get("message") or ""), record.get("field"))
