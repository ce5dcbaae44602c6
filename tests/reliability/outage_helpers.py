"""Outages for the reliability suite: a watcher that stops a server once a batch is really in flight and
starts it again once the retries are exhausted."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Outage:
    """Stops a server once ``when()`` holds, keeps it down until ``recovered_after()`` holds (the
    retries are exhausted), then starts it again; in a thread of its own, watching every 50 ms.

    ``stopped_at`` and ``started_at`` are monotonic times; ``error`` is what went wrong in the watcher.
    """

    name: str
    when: Callable[[], bool]
    stop: Callable[[], None]
    start: Callable[[], None]
    recovered_after: Callable[[], bool]
    timeout: float = 300.0
    stopped_at: float | None = None
    started_at: float | None = None
    error: BaseException | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    def __enter__(self) -> Outage:
        self._thread = threading.Thread(target=self._run, name=f"outage-{self.name}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(self.timeout)
        if self.stopped_at is not None and self.started_at is None:  # the run ended first: never leave it down
            self.start()
            self.started_at = time.monotonic()

    def _run(self) -> None:
        try:
            deadline = time.monotonic() + self.timeout
            while not self.when():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.name}: the trigger never held")
                time.sleep(0.05)
            self.stop()
            self.stopped_at = time.monotonic()
            while not self.recovered_after():
                if time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.start()
            self.started_at = time.monotonic()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    @property
    def down_seconds(self) -> float:
        assert self.stopped_at is not None and self.started_at is not None, f"{self.name} was never stopped"
        return self.started_at - self.stopped_at
