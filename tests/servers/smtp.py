"""An aiosmtpd server on 127.0.0.1 for the 核发 tests and the benchmark.

The handler records every accepted message (envelope recipients and bytes) and can be
told to refuse one address for good (550), or to answer 421 (try later) once it has
accepted a given number of messages; ``stop`` and ``start`` make an outage (the
port stays the same, so a channel reconnects to it).
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class Recorder:
    """aiosmtpd handler: accepts, records, refuses on request."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy_after: int | None = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if self.busy_after is not None and len(self.received) >= self.busy_after:
            return "421 4.3.2 Service not available, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """The server: ``start``, ``stop``, and what it received, parsed."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.host, self.port = "127.0.0.1", free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.recorder, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=email.policy.default) for _, data in self.recorder.received]

    def recipients(self) -> list[str]:
        return [address for rcpt, _ in self.recorder.received for address in rcpt]
