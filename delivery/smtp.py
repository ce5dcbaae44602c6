"""The SMTP channel (smtplib): plain, STARTTLS or SSL, with login when a user is given.

One connection is opened on the first message and reused for the next ones; after
a transient error it is dropped and the next ``send`` connects again. Each message
has one envelope recipient, so a refusal concerns exactly that recipient:

- a 5xx answer to RCPT or DATA → DeliveryRejected (marked 失败, not retried);
- a 4xx answer, a refused or lost connection, a timeout, any other SMTP error
  (login, sender refused) → DeliveryDeferred (retried, the delivery stays 待发送).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Literal

from delivery.base import recipient_addresses
from delivery.wire import wire_bytes
from models.errors import DeliveryDeferred, DeliveryRejected

Security = Literal["none", "starttls", "ssl"]


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
        self._smtp: smtplib.SMTP | None = None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            context = self.ssl_context or ssl.create_default_context()
            if self.security == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            self._smtp = smtp
        return self._smtp

    def send(self, message: EmailMessage) -> None:
        recipients = recipient_addresses(message)
        try:
            self._connection().sendmail(self.sender, recipients, wire_bytes(message))
            return
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = next(iter(error.recipients.values()))
            problem = _refusal(code, reply, recipients)
        except smtplib.SMTPDataError as error:
            problem = _refusal(error.smtp_code, error.smtp_error, recipients)
        except (smtplib.SMTPException, OSError) as error:
            problem = DeliveryDeferred(f"邮件服务器 {self.host}:{self.port} 暂不可用：{_text(error)}")
        if isinstance(problem, DeliveryDeferred):
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
