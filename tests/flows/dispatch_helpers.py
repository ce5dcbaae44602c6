"""Helpers for the 核发 tests: an archived seed notice, the SMTP channel to the test server, reading messages."""

from __future__ import annotations

import re
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from actions.distribution import MailOptions
from delivery import SmtpChannel
from delivery.retry import RetryPolicy
from storage import archiving, deliveries
from storage.archive.local import LocalArchiveStore
from tests.storage.archive.helpers import printed_document
from tests.storage.helpers import load

SENDER = "djqqjm@kaifeng.example.cn"


def archived_notice(db, kaifeng, notice, pins, folder: Path) -> int:
    """The seed notice brought to 已归档 (small real files), the directory loaded."""
    load(db, kaifeng)
    document_id = printed_document(db, notice, pins)
    archiving.archive(db, LocalArchiveStore(folder), document_id=document_id, store_name="local")
    return document_id


def statuses(db, document_id: int) -> Counter:
    """How many deliveries of the document have each status."""
    with db.transaction() as session:
        return Counter(d.status for d in deliveries.of_document(session, document_id=document_id))


def channel(server, connections: int = 1) -> SmtpChannel:
    """The SMTP channel to a test server (aiosmtpd's SmtpServer, or a private Postfix), ``connections`` at most."""
    return SmtpChannel(server.host, server.port, "none", None, None, SENDER, timeout=5, connections=connections)


def options(delays: list[float] | None = None, **changes) -> MailOptions:
    """Fast retries (3 tries, waits of 0.01 s and 0.02 s); the waits asked for are appended to ``delays``."""
    sink = delays if delays is not None else []
    retry = RetryPolicy(attempts=3, backoff=0.01)
    return MailOptions(**{"sender": SENDER, "retry": retry, "sleep": sink.append, **changes})


def ack_code(message: EmailMessage) -> str:
    """The 签收码 printed in a dispatch message."""
    return re.search(r"签收码：(\S+)", message.get_body(("plain",)).get_content()).group(1)


def by_address(messages: list[EmailMessage]) -> dict[str, EmailMessage]:
    return {m["To"].addresses[0].addr_spec: m for m in messages}


class Refusing:
    """A channel that answers every try with ``error`` (but try ``succeed_on``, if given); it counts the tries."""

    connections = 1

    def __init__(self, error: Exception, succeed_on: int | None = None) -> None:
        self.error, self.succeed_on, self.tries = error, succeed_on, 0

    def send(self, message: EmailMessage) -> None:
        self.tries += 1
        if self.tries != self.succeed_on:
            raise self.error

    def close(self) -> None:
        """Nothing held."""


def bare_message() -> EmailMessage:
    """A message with only a recipient: enough for a channel that refuses it."""
    built = EmailMessage()
    built["To"] = "gaj@kaifeng.example.cn"
    return built
