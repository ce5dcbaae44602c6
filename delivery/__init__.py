"""核发 channels: one small interface (``Channel.send``), SMTP and the outbox folder, and the messages.

- ``Channel`` (delivery.base): ``send(message)`` delivers one message or raises
  DeliveryDeferred (try again later) or DeliveryRejected (never); ``close()``; ``connections``,
  how many messages it sends at once.
- ``SmtpChannel`` (delivery.smtp): smtplib, plain / STARTTLS / SSL, up to ``connections``
  connections (GONGWEN_MAIL_CONNECTIONS), each reused for many messages.
- ``OutboxChannel`` (delivery.outbox): the embedded twin, one .eml file per message.
- delivery.message: the Chinese messages — 分发 with the 签收码 and the PDF, 催办, 催办升级.

This package imports only models and the standard library.
"""

from delivery.base import Channel
from delivery.outbox import OutboxChannel
from delivery.smtp import SmtpChannel

__all__ = ["Channel", "OutboxChannel", "SmtpChannel"]
