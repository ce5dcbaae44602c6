"""Who acts: the identity an action is taken under, and how it was shown (身份证明).

Every action a person takes (拟稿, 送审, 核稿/会签/签发, 修改, 撤销, 核发 corrections) names the
person and shows how they proved it:

- ``Credentials``: the name and the person's PIN, checked against the directory's hash (the
  command line's ``--as``/``--pin``, a 审核单's 审核人 and PIN);
- ``Claimed``: a name given on a form that carries no proof (the draft-document Run form);
  the audit entry says so (``proof: 声明``), and no step that needs a PIN accepts it.

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
    """A name given without proof (a form field); accepted only where no PIN is required."""

    name: str

    proof = "声明"


Identity = Credentials | Claimed
