"""Who acts: the identity an action is taken under, and how it was shown (身份证明).

Every action a person takes (拟稿, 送审, 核稿/会签/签发, 修改, 撤销, 核发 corrections) names the
person and shows how they proved it:

- ``Credentials``: the name and the person's PIN, checked against the directory's hash (the
  command line's ``--as``/``--pin`` without a server);
- ``SignedIn``: a person signed in at the 门户, whose answer or start carries the gateway's stamp
  (models.stamps), verified by the run before it builds this; its nonce is recorded when the action
  takes it, so a stamp is used once (``proof: 门户登录``);
- ``Claimed``: a name given without proof — the drafter a scheduled 年度宣传工作 draft is written for;
  the audit entry says so (``proof: 声明``), and no action accepts it as a person's proof.

The PIN never leaves this object in a repr, a log line or an audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Credentials:
    """A name proven by the person's PIN."""

    name: str
    pin: str = field(repr=False)

    proof = "PIN"


@dataclass(frozen=True)
class Claimed:
    """A name given without proof (a draft a schedule writes for someone); never accepted as proof."""

    name: str

    proof = "声明"


@dataclass(frozen=True)
class SignedIn:
    """A name proven by sign-in at the 门户: the gateway's stamp on the answer or start, verified."""

    name: str
    nonce: str = field(repr=False)
    target: str = ""

    proof = "门户登录"


Identity = Credentials | SignedIn | Claimed
