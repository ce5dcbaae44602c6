"""门户签章: the gateway's proof that a signed-in person gave this answer, or started this run.

When a signed-in person answers a form (resumes a suspended run with its input) or starts one of
gongwen's deployments, the 门户 puts the person's name in and adds a stamp: an HMAC-SHA256, with a key
that gongwen holds and the Prefect server does not, over the target (the flow run and form key, or the
deployment), the person, the SHA-256 of the answer or parameters (canonical JSON), the time and a
random nonce. The run takes the answer or the start only if the stamp is valid (the MAC, the same
target, the same content), fresh (no older than ``max_age`` seconds, not from the future) and unused
(its nonce is recorded when taken: storage.directory_store.prove). Anything that reached Prefect around
the gateway carries no valid stamp and is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from models.errors import RefusedDecision

FIELD = "stamp"  # the field a refusal names
CONTEXT_KEY = "gongwen_stamp"  # a start's stamp: in the run's context
MAX_AGE = 3600.0  # a stamp is taken within the hour (a run may wait behind others on a busy server)
SKEW = 60.0


def content_digest(content: dict[str, Any]) -> str:
    """SHA-256 of ``content`` as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _mac(key: bytes, *, person: str, target: str, digest: str, at: float, nonce: str) -> str:
    message = "\n".join(("gongwen-stamp-1", target, person, digest, f"{at:.3f}", nonce))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def sign(key: bytes, *, person: str, target: str, content: dict[str, Any], at: float) -> dict[str, Any]:
    """The stamp of ``person`` on ``content`` for ``target`` at time ``at`` (seconds since the epoch)."""
    nonce = secrets.token_hex(16)
    digest = content_digest(content)
    mac = _mac(key, person=person, target=target, digest=digest, at=at, nonce=nonce)
    return {"person": person, "at": at, "nonce": nonce, "mac": mac}


@dataclass(frozen=True)
class Verified:
    """A stamp that passed: whose it is and its nonce (to be recorded as used)."""

    person: str
    nonce: str
    target: str


def verify(
    key: bytes, stamp: object, *, target: str, content: dict[str, Any], now: float, max_age: float = MAX_AGE
) -> Verified:
    """The verified stamp; RefusedDecision (field ``stamp``) naming why not."""
    if not isinstance(stamp, dict) or not {"person", "at", "nonce", "mac"} <= stamp.keys():
        raise RefusedDecision("未经门户登录提交（缺少门户签章）", FIELD)
    try:
        person, at, nonce, mac = str(stamp["person"]), float(stamp["at"]), str(stamp["nonce"]), str(stamp["mac"])
    except (TypeError, ValueError):
        raise RefusedDecision("门户签章格式不正确", FIELD) from None
    expected = _mac(key, person=person, target=target, digest=content_digest(content), at=at, nonce=nonce)
    if not hmac.compare_digest(expected, mac):
        raise RefusedDecision("门户签章无效（内容、对象或签章已被改动）", FIELD)
    if at > now + SKEW or now - at > max_age:
        raise RefusedDecision("门户签章已过期，请重新提交", FIELD)
    return Verified(person, nonce, target)


def input_key(form_key: str) -> str:
    """An answer's stamp: the run's input beside the answer to form ``form_key``."""
    return f"stamp-{form_key}"


def answer_target(flow_run_id: str, form_key: str) -> str:
    return f"answer:{flow_run_id}:{form_key}"


def start_target(deployment_id: str) -> str:
    return f"start:{deployment_id}"
