"""The SMTP channel (smtplib): plain, STARTTLS or SSL, with login when a user is given.

``send`` may be called from several threads at once (核发 sends over ``connections`` of them,
GONGWEN_MAIL_CONNECTIONS): the channel holds at most ``connections`` connections, each opened on
the first message that needs it and reused for the next ones; a ``send`` waits while all are busy.
After a transient error a connection is dropped and the next ``send`` on it connects again. DATA
is sent as smtplib sends it, but dot-stuffed with ``bytes.replace`` (smtplib's regular expression
costs about 10 ms of a 700 KiB message, holding the interpreter lock the other connections need). The server's
certificate is checked against ``ssl_context`` (by default the system's CAs; pass
one that trusts a private CA). Each message has one envelope recipient, so a
refusal concerns exactly that recipient:

- a 5xx answer to RCPT or DATA → DeliveryRejected (marked 失败, not retried);
- the server refusing the channel itself — login refused (or a user or password
  smtplib cannot send: it speaks AUTH in ASCII only), STARTTLS or AUTH not
  offered, a certificate that does not verify, a 5xx answer to MAIL FROM (the
  sending address) → ChannelRefused: no message can go until the settings change;
- a 4xx answer, a refused or lost connection, a timeout, any other SMTP error
  → DeliveryDeferred (retried, the delivery stays 待发送);
- but a connection lost (or timed out) after the message's last byte went, while
  waiting for the server's answer → DeliveryUncertain: the server may have taken
  it, so it is not sent again (SMTP cannot tell; a second copy is worse).
"""

from __future__ import annotations

import queue
import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

from delivery.base import recipient_addresses
from delivery.wire import wire_bytes
from models.errors import ChannelRefused, DeliveryDeferred, DeliveryRejected, DeliveryUncertain

Security = Literal["none", "starttls", "ssl"]


class _MessageSent:
    """smtplib's client, noting when the whole of a message has gone (``message_sent``): DATA's
    payload is sent in one piece ending with CRLF.CRLF, then the server's answer is read."""

    message_sent = False

    def send(self, s) -> None:
        super().send(s)
        if isinstance(s, bytes) and s.endswith(b"\r\n.\r\n"):
            self.message_sent = True

    def data(self, msg: bytes) -> tuple[int, bytes]:
        """smtplib's DATA for a message in bytes, its lines dot-stuffed (a "." doubled at the start of
        each line, as smtplib's ``_quote_periods``) by ``bytes.replace``."""
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        stuffed = (b"." + msg if msg.startswith(b".") else msg).replace(b"\n.", b"\n..")
        self.send(stuffed + (b".\r\n" if stuffed.endswith(b"\r\n") else b"\r\n.\r\n"))
        return self.getreply()


class _Smtp(_MessageSent, smtplib.SMTP):
    pass


class _SmtpSsl(_MessageSent, smtplib.SMTP_SSL):
    pass


class SmtpChannel:
    """Sends through one SMTP server as ``sender``, over ``connections`` connections at most."""

    def __init__(
        self,
        host: str,
        port: int,
        security: Security,
        user: str | None,
        password: str | None,
        sender: str,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        connections: int = 1,
    ) -> None:
        if connections < 1:
            raise ValueError(f"connections must be at least 1, not {connections}")
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.sender, self.timeout = user, password, sender, timeout
        self.ssl_context, self.connections = ssl_context, connections
        # one token per connection allowed: an open connection, or None (not open); the last put is taken first
        self._pool: queue.LifoQueue[_Smtp | _SmtpSsl | None] = queue.LifoQueue()
        for _ in range(connections):
            self._pool.put(None)

    def _connect(self) -> _Smtp | _SmtpSsl:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "ssl":
            smtp = _SmtpSsl(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = _Smtp(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user:
                self._login(smtp)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.login(self.user, self.password or "")
        except UnicodeEncodeError:  # smtplib speaks AUTH in ASCII only
            raise ChannelRefused(
                f"SMTP 用户名或密码含有非 ASCII 字符，无法登录邮件服务器 {self.host}:{self.port}（smtplib 只支持 ASCII）",
                "credentials",
            ) from None

    def send(self, message: EmailMessage) -> None:
        recipients = recipient_addresses(message)
        server = f"邮件服务器 {self.host}:{self.port} "
        smtp = self._pool.get()  # waits while every connection is busy
        try:
            smtp = smtp or self._connect()
            smtp.message_sent = False
            smtp.sendmail(self.sender, recipients, wire_bytes(message))
            self._pool.put(smtp)
            return
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            problem = _refusal(code, reply, recipients)
        except smtplib.SMTPDataError as error:
            problem = _refusal(error.smtp_code, error.smtp_error, recipients)
        except smtplib.SMTPAuthenticationError as error:
            problem = ChannelRefused(
                f"{server}拒绝登录（用户 {self.user}）：{error.smtp_code} {_text(error.smtp_error)}；请检查用户名与密码",
                "credentials",
            )
        except smtplib.SMTPNotSupportedError as error:
            problem = ChannelRefused(f"{server}不支持所需的功能（{self.security}）：{_text(error)}", "security")
        except ssl.SSLCertVerificationError as error:
            problem = ChannelRefused(
                f"{server}的 TLS 证书未通过验证：{error.verify_message}；如使用自建 CA，请指定其证书", "security"
            )
        except smtplib.SMTPSenderRefused as error:
            text = f"{server}拒绝发件地址 {self.sender}：{error.smtp_code} {_text(error.smtp_error)}"
            problem = ChannelRefused(text, "sender") if 500 <= error.smtp_code < 600 else DeliveryDeferred(text)
        except (smtplib.SMTPException, OSError) as error:
            if smtp is not None and smtp.message_sent:
                problem = DeliveryUncertain(f"{server}在收完邮件后、答复前断开（{_text(error)}），可能已收到，不再重发")
            else:
                problem = DeliveryDeferred(f"{server}暂不可用：{_text(error)}")
        except BaseException:
            _quit(smtp)
            self._pool.put(None)
            raise
        if isinstance(problem, (DeliveryDeferred, DeliveryUncertain)):
            _quit(smtp)  # (smtplib itself closes on 421) the next send on this one connects afresh
            smtp = None
        self._pool.put(smtp)
        raise problem

    def close(self) -> None:
        """Quit every open connection (call it when no ``send`` is under way)."""
        held = []
        while not self._pool.empty():
            held.append(self._pool.get_nowait())
        for smtp in held:
            _quit(smtp)
            self._pool.put(None)


def _quit(smtp: _Smtp | _SmtpSsl | None) -> None:
    if smtp is not None:
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusal(code: int, reply: bytes | str, recipients: list[str]) -> DeliveryDeferred | DeliveryRejected:
    text = f"邮件服务器拒收 {', '.join(recipients)}：{code} {_text(reply)}"
    return DeliveryRejected(text) if 500 <= code < 600 else DeliveryDeferred(text)
