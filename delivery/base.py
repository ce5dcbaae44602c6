"""The one interface every 核发 channel has."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Protocol


class Channel(Protocol):
    """Sends finished messages; each message has exactly one recipient (its ``To``)."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; DeliveryDeferred when it may work later, DeliveryRejected when it never will."""

    def close(self) -> None:
        """Release what the channel holds (an open SMTP connection)."""


def recipient_addresses(message: EmailMessage) -> list[str]:
    """The envelope recipients of a message: the addresses in its ``To`` header."""
    return [address.addr_spec for address in message["To"].addresses]
