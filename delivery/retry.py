"""核发的重试: the one retry layer of sending a message (核发, 催办, 收文催办), its attempts and waits stated once.

- A message is tried at most ``attempts`` times (GONGWEN_MAIL_ATTEMPTS, 3) while the server answers that it
  may work later (DeliveryDeferred: 4xx, server down, connection lost, timeout); before try n+1 the run waits
  ``backoff`` × 2^(n-1) seconds (GONGWEN_MAIL_BACKOFF, 1: waits of 1 s and 2 s). Each try may take up to
  ``timeout`` (30 s, the SMTP connection's) when the server does not answer at all.
- A permanent refusal of the recipient (5xx: DeliveryRejected), a server refusing gongwen itself
  (ChannelRefused) and a message the server may already have taken (DeliveryUncertain) are tried once only.
- Nothing retries a mail failure on top of this: a 核发 message that used up its tries stops the run (the rest
  stays 待发送) and ``gongwen distribute`` continues it (催办 stops the same way; 收文催办 records that unit's
  reminder as failed and goes on to the next). The Prefect task 核发 (flows.steps.distribute) is retried only
  when the database or the archive store (whose files it sends) is down, after ``STEP_RETRY_DELAYS`` (2, 10 and 30 s), as every 发文办理 step is; a
  message is then tried again only if it had not gone (deliveries are claimed and recorded in the database).
- The messages the server accepted are recorded after each batch of ``CLAIM_BATCH`` (10); while the database
  is down the run waits for it up to ``record_patience`` seconds (GONGWEN_MAIL_RECORD_PATIENCE, 600), from
  ``backoff`` doubling up to 10 s between tries, then leaves those deliveries uncertain.

Worst case with the defaults: one message 3 × 30 s + 1 s + 2 s = 93 s; a batch of 10 claims, each message
going only on its last try, 930 s, then up to 600 s to record them: 1530 s. A claim must not outlive
SETTLE_GRACE (30 min), after which the registrar may ``settle`` it: ``check`` refuses settings that would.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage

from delivery.base import Channel
from models.errors import ChannelRefused, DeliveryDeferred, DeliveryRejected, DeliveryUncertain

#: How long a claim may belong to a run that is still sending or recording it: ``settle`` refuses younger claims.
SETTLE_GRACE = dt.timedelta(minutes=30)
#: The waits before each retry of a 发文办理 step (登记, 印制, 归档; 核发 only for a database outage), seconds.
STEP_RETRY_DELAYS = (2, 10, 30)
#: How many deliveries a run claims, sends and records at a time.
CLAIM_BATCH = 10
#: The longest wait between two tries to record sent messages in a database that is down (seconds).
RECORD_WAIT_CAP = 10.0


@dataclass(frozen=True)
class Attempted:
    """How sending one message went: the tries made and, if it did not go, the last error."""

    attempts: int
    error: DeliveryDeferred | DeliveryRejected | DeliveryUncertain | ChannelRefused | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Tries per message and the waits between them, the SMTP timeout of one try, and how long the run waits
    for the database to record what went (seconds)."""

    attempts: int = 3
    backoff: float = 1.0
    record_patience: float = 600.0
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff < 0 or self.record_patience < 0 or self.timeout <= 0:
            raise ValueError(f"invalid retry policy: {self}")

    def waits(self) -> tuple[float, ...]:
        """The waits before the second, third … try: ``backoff``, doubling."""
        return tuple(self.backoff * 2**n for n in range(self.attempts - 1))

    def record_waits(self) -> Iterator[float]:
        """The waits between tries to record sent messages: from ``backoff`` (0.1 s at least), doubling up to
        RECORD_WAIT_CAP; the caller stops once ``record_patience`` has passed."""
        wait = max(self.backoff, 0.1)
        while True:
            yield wait
            wait = min(wait * 2, RECORD_WAIT_CAP)

    def longest_send(self) -> float:
        """The worst-case time of one message: every try runs into the timeout, with every wait between."""
        return self.attempts * self.timeout + sum(self.waits())

    def longest_claim(self, batch: int = CLAIM_BATCH) -> float:
        """The worst-case time a claim stays with its run: a batch whose every message goes only on its last
        try, then the wait for a database that is down to record them."""
        return batch * self.longest_send() + self.record_patience

    def check(self, batch: int = CLAIM_BATCH) -> None:
        """Raise ValueError when a claim could outlive SETTLE_GRACE: the registrar could then settle a
        delivery as unsent that the run is still sending, and its recipient would get two copies."""
        longest, grace = self.longest_claim(batch), SETTLE_GRACE.total_seconds()
        if longest >= grace:
            raise ValueError(
                f"每封邮件最多尝试 {self.attempts} 次（间隔自 {self.backoff:g} 秒起倍增，每次最长 {self.timeout:g} 秒），"
                f"每批 {batch} 封，加上等待数据库记录 {self.record_patience:g} 秒，一批最长约 {longest:.0f} 秒，"
                f"不得达到 {grace:.0f} 秒（核实期限）；请减少尝试次数、间隔或等待时间"
            )

    def send(self, channel: Channel, message: EmailMessage, sleep: Callable[[float], None] = time.sleep) -> Attempted:
        """Send ``message``, trying again after each wait while it is deferred; never again after a permanent
        refusal, a refused channel, or a message the server may have taken."""
        waits, attempt = self.waits(), 1
        while True:
            try:
                channel.send(message)
                return Attempted(attempt)
            except (DeliveryRejected, DeliveryUncertain, ChannelRefused) as error:
                return Attempted(attempt, error)
            except DeliveryDeferred as error:
                if attempt == self.attempts:
                    return Attempted(attempt, error)
                sleep(waits[attempt - 1])
                attempt += 1
