"""The messages of 核发 and 催办, in Chinese, built with ``email.message.EmailMessage``.

Headers and attachment names are encoded by the standard library (RFC 2047 for
the subject and display names, RFC 2231 for file names), so Chinese survives
any mail server. Four kinds:

- ``dispatch_message`` (分发): a cover letter naming the document, its 发文字号 and the
  recipient's role(s) 主送 / 抄报 / 抄送, the 签收码 and how to use it, with the
  ``attachments`` (the PDF, and the .docx when asked for), encoded and serialised
  once per dispatch (delivery.wire.SealedPart) and shared by every message.
- ``reminder_message`` (催办): to a recipient that has not acknowledged.
- ``escalation_message`` (催办升级): to the issuer's office, listing who has not
  acknowledged after the reminders.
- ``plan_reminder_message`` (催办): to a unit whose annual plan, asked for by a 印发
  notice, has not arrived by its due date (models.work).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy, default
from email.utils import format_datetime, formataddr, make_msgid

from delivery.wire import SealedPart, fresh_boundary
from models.distribution import Recipient, roles_label

PDF = ("application", "pdf")
DOCX = ("application", "vnd.openxmlformats-officedocument.wordprocessingml.document")


@dataclass(frozen=True)
class Letterhead:
    """What every message about one document names: 发文字号, 标题, 发文机关, and the sending address."""

    ref: str
    title: str
    issuer: str
    sender: str

    def file_name(self, suffix: str) -> str:
        """``汴打假〔2022〕3号 关于….pdf``: the attachment's name."""
        return f"{self.ref} {self.title}{suffix}"


@dataclass(frozen=True)
class Overdue:
    """One unacknowledged delivery, as an escalation lists it."""

    recipient: str
    sent_on: dt.date
    reminders: int


@functools.lru_cache(maxsize=4096)
def _header(name: str, value: str):
    return default.header_factory(name, value)


@functools.lru_cache(maxsize=256)
def _max_count(name: str) -> int | None:
    return default.header_max_count(name)


#: Headers whose values gongwen makes itself (``make_msgid``, ``format_datetime``, ``_mailbox``): ASCII
#: that fits one line, kept as text.
_MADE_HERE = frozenset({"message-id", "date", "from", "to"})


class _SharedHeaders(EmailPolicy):
    """``policy.default``, with the header objects (immutable) of equal (name, value) pairs parsed once:
    a dispatch sets the same From, Subject and MIME headers on every message. Message-ID and Date,
    new in every message and made here, and From and To when ``_mailbox`` could encode them on one
    line, are kept as text (parsed only if read: they fold as they are). The standard library also
    builds a new header class on every lookup of a header's maximum count: memoised too."""

    def header_store_parse(self, name, value):
        if type(value) is str and len(value.splitlines()) <= 1:
            if name.lower() in _MADE_HERE and value.isascii() and len(name) + 2 + len(value) <= self.max_line_length:
                return (name, value)
            return (name, _header(name, value))
        return super().header_store_parse(name, value)

    def header_max_count(self, name):
        return _max_count(name)


_BUILD = _SharedHeaders()


def _message(head: Letterhead, to: Recipient, subject: str, lines: list[str]) -> EmailMessage:
    message = EmailMessage(policy=_BUILD)
    message["Subject"] = subject
    message["From"] = _mailbox(head.issuer, head.sender)
    message["To"] = _mailbox(to.name, to.address)
    message["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    message["Message-ID"] = make_msgid(domain=head.sender.rpartition("@")[2] or None)
    # base64 for the letter: shorter than quoted-printable for Chinese, and it never holds a MIME boundary
    message.set_content("\n".join([f"{to.name}：", "", *lines, "", head.issuer, ""]), cte="base64")
    return message


@dataclass(frozen=True)
class Attachments:
    """The files every recipient of a dispatch gets, sealed, and a MIME boundary none of them contains."""

    parts: tuple[SealedPart, ...]
    boundary: str


def _mailbox(name: str, address: str) -> str:
    """``名称 <address>`` for From and To: the name as one RFC 2047 encoded-word (base64, UTF-8) when the
    header then fits one line — each message has its own To, and parsing and folding it is most of
    what a message costs to build — else as text for the standard library to encode and fold."""
    checked = Address(display_name=name, addr_spec=address)  # (refuses line breaks and bad addresses)
    if address.isascii() and name.isprintable():
        encoded = formataddr((name, address), charset="utf-8")
        if len(encoded) <= _BUILD.max_line_length - len("From: "):
            return encoded
    return str(checked)


def attachments(head: Letterhead, *, pdf: bytes, docx: bytes | None = None) -> Attachments:
    """The files every recipient gets: the PDF, and the .docx if given (Chinese names, RFC 2231), sealed."""
    files = [(pdf, PDF, ".pdf")] + ([(docx, DOCX, ".docx")] if docx is not None else [])
    parts = []
    for content, (maintype, subtype), suffix in files:
        part = SealedPart(policy=_BUILD)
        part.set_content(content, maintype, subtype, disposition="attachment", filename=head.file_name(suffix))
        parts.append(part.seal())
    return Attachments(tuple(parts), fresh_boundary(*(part.wire for part in parts)))


def dispatch_message(head: Letterhead, to: Recipient, *, code: str, files: Attachments) -> EmailMessage:
    """分发: the document to one recipient, with its role(s) and 签收码; ``files`` from ``attachments``."""
    roles = roles_label(to.roles)
    message = _message(
        head,
        to,
        f"【{roles}】{head.ref} {head.title}",
        [
            f"　　现将{_quoted(head.title)}（{head.ref}）发给你单位，你单位为本文的{roles}单位，请查收。公文见附件（PDF 版式文件）。",
            "",
            f"　　签收码：{code}",
            "　　收文后请及时签收：将签收码告知发文机关，或在 gongwen 中执行",
            f"　　gongwen ack --code {code}",
            "　　签收码仅用于本份公文本次分发，请勿转给他人。",
        ],
    )
    message.make_mixed()
    message.set_boundary(files.boundary)  # not in the attachments, and base64 (the letter) has no "-"
    for part in files.parts:
        message.attach(part)
    return message


def reminder_message(head: Letterhead, to: Recipient, *, sent_on: dt.date, count: int) -> EmailMessage:
    """催办: the ``count``-th reminder to a recipient that has not acknowledged."""
    return _message(
        head,
        to,
        f"【催办】{head.ref} {head.title}",
        [
            f"　　{head.issuer}于{_date(sent_on)}发送你单位的{_quoted(head.title)}（{head.ref}，"
            f"{roles_label(to.roles)}）至今未签收，现第{count}次催办。",
            "　　请使用原分发邮件中的签收码及时签收（gongwen ack --code 签收码）。",
        ],
    )


def escalation_message(head: Letterhead, office: Recipient, *, overdue: list[Overdue]) -> EmailMessage:
    """催办升级: to the issuer's office, the recipients still unacknowledged after the reminders."""
    return _message(
        head,
        office,
        f"【催办升级】{head.ref} {head.title}：{len(overdue)} 个单位逾期未签收",
        [
            f"　　{_quoted(head.title)}（{head.ref}）下列收文单位经催办仍未签收，请协调督办：",
            *(f"　　{o.recipient}（{_date(o.sent_on)}发送，已催办{o.reminders}次）" for o in overdue),
        ],
    )


def plan_reminder_message(head: Letterhead, to: Recipient, *, due: dt.date, office: str, count: int) -> EmailMessage:
    """催办 of an annual plan the 印发 notice asked for by ``due`` and ``office`` has not received."""
    return _message(
        head,
        to,
        f"【催办】{head.ref} 年度宣传工作方案报送",
        [
            f"　　{_quoted(head.title)}（{head.ref}）请你单位于{_date(due)}前将本单位、本辖区年度宣传工作方案"
            f"报送{office}，至今未收到，现第{count}次催办。",
            f"　　请尽快报送。如已报送，请与{office}联系核实。",
        ],
    )


def _quoted(title: str) -> str:
    """《标题》, with 《》 inside the title turned into 〈〉 (书名号 within 书名号)."""
    return "《" + title.replace("《", "〈").replace("》", "〉") + "》"


def _date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"
