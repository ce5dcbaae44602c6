"""The SMTP channel (smtplib): plain, STARTTLS or SSL, with login when a user is given.

One connection is opened on the first message and reused for the next ones; after
a transient error it is dropped and the next ``send`` connects again. The server's
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


class _Smtp(_MessageSent, smtplib.SMTP):
    pass


class _SmtpSsl(_MessageSent, smtplib.SMTP_SSL):
    pass


class SmtpChannel:
    """Sends through one SMTP server as ``sender``."""

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
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self.user, self.password, self.sender, self.timeout = user, password, sender, timeout
        self.ssl_context = ssl_context
        self._smtp: _Smtp | _SmtpSsl | None = None

    def _connection(self) -> _Smtp | _SmtpSsl:
        if self._smtp is None:
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
            self._smtp = smtp
        return self._smtp

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
        smtp = None
        try:
            smtp = self._connection()
            smtp.message_sent = False
            smtp.sendmail(self.sender, recipients, wire_bytes(message))
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
        if isinstance(problem, (DeliveryDeferred, DeliveryUncertain)):
            self.close()  # (smtplib itself closes on 421) the next send connects afresh
        raise problem

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
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
