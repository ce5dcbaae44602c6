"""The one interface every 核发 channel has."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import getaddresses
from typing import Protocol


class Channel(Protocol):
    """Sends finished messages; each message has exactly one recipient (its ``To``).

    ``connections``: how many messages it can send at once, from as many threads (核发 runs one
    sender per connection); a channel of one is used from one thread at a time."""

    connections: int

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; DeliveryDeferred when it may work later, DeliveryRejected when it never will."""

    def close(self) -> None:
        """Release what the channel holds (an open SMTP connection)."""


def recipient_addresses(message: EmailMessage) -> list[str]:
    """The envelope recipients of a message: the addresses in its ``To`` header (read without parsing
    the header into objects, which the ``To`` a message builder kept as text would need)."""
    values = [str(value) for name, value in message.raw_items() if name.lower() == "to"]
    return [address for _, address in getaddresses(values)]
