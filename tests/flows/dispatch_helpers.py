"""Helpers for the 核发 tests: an archived seed notice, the SMTP channel to the test server, reading messages."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path

from delivery import SmtpChannel
from flows.distribution import MailOptions
from storage import archiving
from storage.archive.local import LocalArchiveStore
from tests.servers.smtp import SmtpServer
from tests.storage.archive.helpers import printed_document
from tests.storage.helpers import load

SENDER = "djqqjm@kaifeng.example.cn"


def archived_notice(db, kaifeng, notice, pins, folder: Path) -> int:
    """The seed notice brought to 已归档 (small real files), the directory loaded."""
    load(db, kaifeng)
    document_id = printed_document(db, notice, pins)
    archiving.archive(db, LocalArchiveStore(folder), document_id=document_id, store_name="local")
    return document_id


def channel(server: SmtpServer) -> SmtpChannel:
    return SmtpChannel(server.host, server.port, "none", None, None, SENDER, timeout=5)


def options(delays: list[float] | None = None, **changes) -> MailOptions:
    """Fast retries; the backoff delays asked for are appended to ``delays``."""
    sink = delays if delays is not None else []
    return MailOptions(**{"sender": SENDER, "attempts": 3, "backoff": 0.01, "sleep": sink.append, **changes})


def ack_code(message: EmailMessage) -> str:
    """The 签收码 printed in a dispatch message."""
    return re.search(r"签收码：(\S+)", message.get_body(("plain",)).get_content()).group(1)


def by_address(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {m["To"].addresses[0].addr_spec: m for m in messages}
