"""What the load test needs around a served gongwen: PostgreSQL for both databases, a directory with
eight drafters and four signers' desks, one short 通知 per document, and meters (Prefect client
retries, the server's memory)."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from tests.conftest import EXAMPLE, PG_SERVER, drop_postgres_schema, postgres_schema_url

#: 拟稿人: the seed's drafter and seven more of the same office.
DRAFTERS = ["郭佳佳", "王芳", "李娜", "刘洋", "陈静", "杨帆", "黄磊", "周婷"]
#: Four desks, each with the 核稿人 and the 签发人 it acts for (the seed's people and two more of each).
DESKS = [("李红梅", "刘志强"), ("张伟", "陈立新"), ("吴刚", "马永强"), ("徐丽", "朱国华")]
OFFICE = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组办公室"
GROUP = "开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"
NEW_PIN = "246810"


def load_directory() -> dict:
    """The seed directory with the added drafters, reviewers and signers, and no serial used yet (the
    year's numbers then run from 1)."""
    data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
    known = {person["name"] for person in data["people"]}
    added = [(name, OFFICE, "drafter") for name in DRAFTERS]
    added += [(reviewer, OFFICE, "reviewer") for reviewer, _ in DESKS]
    added += [(signer, GROUP, "signer") for _, signer in DESKS]
    for name, agency, role in added:
        if name not in known:
            data["people"].append({"name": name, "agency": agency, "roles": [role], "pin": NEW_PIN})
    data.pop("counters", None)
    return data


def pins(directory: dict) -> dict[str, str]:
    return {person["name"]: person["pin"] for person in directory["people"]}


def notice(number: int, desk: int) -> dict:
    """The spec of the ``number``-th 通知 of the load, routed through the ``desk``-th 核稿人 and 签发人."""
    reviewer, signer = DESKS[desk]
    return {
        "doc_type": "通知",
        "issuer": GROUP,
        "title": f"关于报送第{number}批打击侵权假冒典型案例的通知",
        "to": ["市打击侵权假冒工作领导小组相关成员单位"],
        "body": (
            f"请各成员单位于2022年6月{number % 28 + 1}日前报送本单位第{number}批打击侵权假冒典型案例，"
            "每个案例不超过1500字。\n\n联系人：郭佳佳\n\n电 话：0371—22783761"
        ),
        "date": "2022-05-10",
        "approval": {"review": [reviewer], "sign": signer},
    }


@dataclass(frozen=True)
class LoadDatabases:
    """Prefect's database (its own, asyncpg) and gongwen's (a schema of the test database, psycopg)."""

    prefect_url: str
    gongwen_url: str


@contextmanager
def load_databases() -> Iterator[LoadDatabases]:
    """A fresh PostgreSQL database for the Prefect server and a fresh schema for gongwen; dropped after."""
    name = f"gw_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    schema, gongwen_url = postgres_schema_url()
    prefect_url = PG_SERVER.replace("postgresql+psycopg", "postgresql+asyncpg").rsplit("/", 1)[0] + f"/{name}"
    try:
        yield LoadDatabases(prefect_url, gongwen_url)
    finally:
        drop_postgres_schema(schema)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class RetryCounter(logging.Handler):
    """Counts the Prefect client's retries of a 5xx/429 answer or a dropped connection in this process
    (its ``prefect.client`` logger says so at DEBUG before each retry)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.by_status: dict[str, int] = {}
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "Another attempt will be made" not in message:
            return
        status = message.split("status code", 1)[1].split(".", 1)[0].strip() if "status code" in message else "连接"
        with self._lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1

    @contextmanager
    def installed(self) -> Iterator[RetryCounter]:
        logger = logging.getLogger("prefect.client")
        level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)


class MemoryPeak:
    """The peak resident memory of a process group's session (the served server, its flow-run processes
    and their LibreOffice), sampled every second from /proc."""

    def __init__(self, session: int) -> None:
        self.session = session
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self._stop.wait(1.0):
            total = 0
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    if int(fields[3]) == self.session:  # field 6 of stat: the session id
                        total += int((entry / "statm").read_text().split()[1]) * page
                except (OSError, IndexError, ValueError):
                    continue  # the process ended while we read it
            self.peak_bytes = max(self.peak_bytes, total)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def minutes_since(start: float) -> float:
    return (time.monotonic() - start) / 60
