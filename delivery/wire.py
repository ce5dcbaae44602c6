"""A message as it goes on the wire: RFC 5322 bytes with CRLF, as ``as_bytes(policy=SMTP)`` makes them, faster.

A dispatch sends the same document to hundreds of recipients; serialising with the
standard library spends most of its time on what is the same in every message:
folding the same Chinese headers (From, Subject, the attachment's RFC 2231 file
name), writing the same base64 attachment one line at a time, and searching the
whole message (attachment included) for the random MIME boundary. ``wire_bytes``

- folds each distinct header once (the fold of a header is a function of its name
  and value), and writes a part's lines in one piece;
- writes a ``SealedPart`` — a finished attachment, serialised once by ``seal`` — as
  its stored bytes, in every message it is attached to;
- looks for the boundary with a substring search first; only a hit (never, for
  base64 parts) runs the standard library's line-by-line check; ``fresh_boundary``
  gives one boundary that a dispatch can set on all its messages (its attachments
  do not contain it), so the Content-Type header is the same in every message.

The bytes are the same as the standard library's (tests/delivery checks it).
"""

from __future__ import annotations

import io
import re
from email.generator import NLCRE, BytesGenerator
from email.message import EmailMessage, MIMEPart
from email.policy import SMTP, EmailPolicy

_FOLDS: dict[tuple[str, str], bytes] = {}


class _FoldOnce(EmailPolicy):
    """``policy.SMTP`` with header folds memoised by (name, value)."""

    def fold_binary(self, name, value):
        key = (name, str(value))
        folded = _FOLDS.get(key)
        if folded is None:
            if len(_FOLDS) >= 4096:
                _FOLDS.clear()
            folded = _FOLDS[key] = SMTP.fold_binary(name, value)
        return folded


class SealedPart(MIMEPart):
    """A finished MIME part that many messages share (an attachment): serialised once by ``seal``.

    Once sealed it must not be changed: every message carries the stored bytes.
    """

    wire: bytes | None = None

    def seal(self) -> SealedPart:
        self.wire = None
        self.wire = wire_bytes(self)
        return self


class _Generator(BytesGenerator):
    """A BytesGenerator that writes a block of lines at once, sealed parts from their bytes, and finds
    boundaries cheaply."""

    def flatten(self, msg, unixfrom=False, linesep=None):
        wire = msg.wire if isinstance(msg, SealedPart) else None
        if wire is not None and not unixfrom and (linesep or self.policy.linesep) == _POLICY.linesep:
            self._fp.write(wire)
        else:
            super().flatten(msg, unixfrom, linesep)

    def _write_lines(self, lines: str) -> None:
        if "\r" not in lines:  # base64 bodies: "\n" only, a plain replace does it
            self.write(lines.replace("\n", self._NL))
        elif lines:
            self.write(self._NL.join(NLCRE.split(lines)))

    @classmethod
    def _make_boundary(cls, text=None):
        boundary = super()._make_boundary()  # the standard library's random boundary, not yet checked
        if text is None or b"--" + boundary.encode("ascii") not in text:
            return boundary  # (the check below needs "--boundary" at a line start: it cannot match)
        candidate, counter = boundary, 0
        while cls._compile_re("^--" + re.escape(candidate) + "(--)?$", re.MULTILINE).search(text):
            candidate, counter = f"{boundary}.{counter}", counter + 1
        return candidate


_POLICY = _FoldOnce(linesep="\r\n")


def fresh_boundary(*texts: bytes) -> str:
    """A MIME boundary of the standard library's form that none of ``texts`` contains as a boundary line."""
    return _Generator._make_boundary(b"\r\n".join(texts))


def wire_bytes(message: EmailMessage | MIMEPart) -> bytes:
    """The message's bytes for SMTP (CRLF line ends, every header 7-bit encoded)."""
    buffer = io.BytesIO()
    _Generator(buffer, mangle_from_=False, policy=_POLICY).flatten(message)
    return buffer.getvalue()
