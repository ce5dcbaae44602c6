"""The outbox folder: the embedded twin of the SMTP channel (design.md §5, ``GONGWEN_MAIL=outbox``).

Each message becomes one RFC 5322 ``.eml`` file, written atomically (a temporary
file in the same folder, fsync, rename), so a reader never sees half a message.
File names sort by time of sending.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from email.message import EmailMessage
from pathlib import Path

from delivery.wire import wire_bytes
from models.errors import DeliveryDeferred


class OutboxChannel:
    """Writes each message as ``<folder>/<UTC time>-<random>.eml``, one at a time."""

    connections = 1

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        data = wire_bytes(message)
        name = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:12]}.eml"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, self.folder / name)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise DeliveryDeferred(f"无法写入发件箱 {self.folder}：{error}") from None

    def close(self) -> None:
        """Nothing to release."""
