"""An aiosmtpd server on 127.0.0.1 for the 核发 tests and the benchmark.

The handler records every accepted message (envelope recipients and bytes, and
whether it came over TLS) and the sessions open at once (``most_sessions``: clients
that greeted, until their connection closed), and can be told to refuse one address
for good (550), to answer 421 (try later) once it has accepted a given number of
messages, to drop the connection at the first RCPT of an address (before the message),
or to drop it after taking a message for an address, before answering;
``stop`` and ``start`` make an outage (the port stays the same, so a channel
reconnects to it).

``security`` makes it a TLS server with the given ``certificates``: ``starttls``
(STARTTLS required before anything else) or ``ssl`` (TLS from the first byte).
``login`` (user, password) requires AUTH (over TLS, when there is TLS) and records
each attempt.
"""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

if TYPE_CHECKING:
    from tests.servers.tls import Certificates


#: The account the TLS test server of the tests requires (the ``smtp_tls`` fixture).
SMTP_LOGIN = ("gongwen", "s3cret-Pa55")


def _over_tls(server) -> bool:
    return server.transport.get_extra_info("ssl_object") is not None


@dataclass(frozen=True)
class Login:
    """One AUTH attempt: who, whether it succeeded, whether the connection was encrypted."""

    user: str
    ok: bool
    tls: bool


@dataclass
class Recorder:
    """aiosmtpd handler: accepts, records, refuses on request; checks logins."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy_after: int | None = None
    drop_after_data: set[str] = field(default_factory=set)
    drop_once_at_rcpt: set[str] = field(default_factory=set)
    login: tuple[str, str] | None = None
    logins: list[Login] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)
    most_sessions: int = 0
    greeted: int = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802 - aiosmtpd's hook name
        session.host_name = hostname  # (what aiosmtpd does itself when there is no hook)
        if id(server) not in self.sessions:  # (a second EHLO after STARTTLS is the same session)
            self.greeted += 1
            self.sessions.add(id(server))
            self.most_sessions = max(self.most_sessions, len(self.sessions))
        return responses

    def closed(self, server) -> None:
        """A client's connection closed (_CountingSmtp)."""
        self.sessions.discard(id(server))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook name
        if address in self.drop_once_at_rcpt:
            self.drop_once_at_rcpt.discard(address)
            server.transport.close()  # lost before the message: the client tries again
            return "421 4.4.2 Connection dropped"
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if self.busy_after is not None and len(self.received) >= self.busy_after:
            return "421 4.3.2 Service not available, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        self.tls.append(_over_tls(server))
        if self.drop_after_data & set(envelope.rcpt_tos):
            server.transport.close()  # taken, but the client never hears so
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism: str, auth: LoginPassword) -> AuthResult:
        """aiosmtpd ``authenticator``: the user and password must be ``login``."""
        user, password = auth.login.decode(), auth.password.decode()
        ok = (user, password) == self.login
        self.logins.append(Login(user, ok, _over_tls(server)))
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 235 or 535 itself


class _CountingSmtp(SMTP):
    """aiosmtpd's session, telling the recorder when its connection closes."""

    def connection_lost(self, error) -> None:
        super().connection_lost(error)
        self.event_handler.closed(self)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _CountingSmtp(self.handler, **self.SMTP_kwargs)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """The server: ``start``, ``stop``, and what it received, parsed."""

    def __init__(
        self,
        security: Literal["none", "starttls", "ssl"] = "none",
        certificates: Certificates | None = None,
        login: tuple[str, str] | None = None,
    ) -> None:
        self.recorder = Recorder(login=login)
        self.host, self.port = "127.0.0.1", free_port()
        self.security, self.certificates = security, certificates
        self._controller: Controller | None = None

    def _options(self) -> dict:
        options: dict = {}
        if self.security != "none":
            context = self.certificates.server_context()
            tls = {"ssl_context": context} if self.security == "ssl" else {"tls_context": context}
            options |= tls | {"require_starttls": self.security == "starttls"}
        if self.recorder.login is not None:
            # (aiosmtpd counts only STARTTLS as TLS for auth_require_tls; with "ssl" every byte is encrypted)
            options |= {
                "authenticator": self.recorder.authenticate,
                "auth_required": True,
                "auth_require_tls": self.security == "starttls",
            }
        return options

    def start(self) -> None:
        self._controller = _Controller(self.recorder, hostname=self.host, port=self.port, **self._options())
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(data, policy=email.policy.default) for _, data in self.recorder.received]

    def recipients(self) -> list[str]:
        return [address for rcpt, _ in self.recorder.received for address in rcpt]
