"""Load: eight staff drafting and four signers' desks signing 500 documents through gongwen server.

The Prefect server keeps its state in a fresh PostgreSQL database and gongwen its own in a fresh
PostgreSQL schema. Eight drafter threads 拟稿 and 送审 their share (the lifecycle run started through
the 门户 by the drafter signed in, as ``gongwen submit`` does); four desks, each acting for one 核稿人 and
one 签发人, each signed in, answer the runs' forms through the 门户 the way ``gongwen decide`` does. One document in ``CLI_EVERY`` goes through the
real CLI from 拟稿 to 签发. Afterwards every document is issued and 核发 once: numbers 1..N of the
year without gap or duplicate, every lifecycle and 核发 run Completed (one each), every recipient one
message, the audit chain and archive verify (``gongwen audit verify --all``), and no 5xx left unhandled:
no call failed, the server log holds no unhandled error, and the client retries met are counted.

``GONGWEN_LOAD_DOCUMENTS`` changes the count (500 by default) for a quick measurement.
"""

from __future__ import annotations

import functools
import json
import os
import queue
import threading
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from actions import deciding, drafting
from flows.served_names import DISTRIBUTE, LIFECYCLE
from gongwen import lifecycle
from models.directory import parse_directory
from models.identity import Credentials
from models.refno import ReferenceNumber
from models.spec import parse_spec
from models.tables import Delivery, Document
from storage import audit_log
from storage.migrations import upgrade
from tests.conftest import needs_postgres
from tests.prefect.served import Served
from tests.reliability.load_helpers import (
    DESKS,
    DRAFTERS,
    MemoryPeak,
    RetryCounter,
    load_databases,
    load_directory,
    minutes_since,
    notice,
    pins,
)

pytestmark = [pytest.mark.reliability, needs_postgres]

DOCUMENTS = int(os.environ.get("GONGWEN_LOAD_DOCUMENTS", "500"))
CLI_EVERY = 20
RECIPIENTS = 11  # 市打击侵权假冒工作领导小组相关成员单位
WAIT = 900.0  # seconds a person waits for one run at most, under load


class Load:
    """The people at work: drafters feed each desk's queue, desks answer 核稿 then 签发."""

    def __init__(self, served: Served) -> None:
        self.served = served
        self.db = served.app.db
        self.directory = load_directory()
        self.pins = pins(self.directory)
        self.queues = [queue.Queue() for _ in DESKS]
        self.errors: list[str] = []
        self.runs: dict[int, str] = {}  # document id → lifecycle run
        self._lock = threading.Lock()

    def failed(self, who: str) -> None:
        with self._lock:
            self.errors.append(f"{who}: {traceback.format_exc()}")

    def drafter(self, index: int) -> None:
        name = DRAFTERS[index]
        desk = self.served.desk(timeout=WAIT, as_person=name)  # signed in at the 门户
        for number in range(index + 1, DOCUMENTS + 1, len(DRAFTERS)):
            try:
                data = notice(number, number % len(DESKS))
                if number % CLI_EVERY == 0:
                    doc, run_id, waiting = self._draft_by_cli(name, number, data)
                else:
                    spec, _ = parse_spec(data)
                    by = Credentials(name, self.pins[name])
                    doc = drafting.draft(self.db, spec=spec, by=by).id
                    run_id, now = lifecycle.start(self.db, desk, document_id=doc)  # the run 送审s as them
                    waiting = list(now.eligible)
                assert waiting == data["approval"]["review"], (doc, waiting)
                with self._lock:
                    self.runs[doc] = run_id
                self.queues[number % len(DESKS)].put((number, doc, run_id))
            except Exception:  # noqa: BLE001 - recorded, the test fails on it
                self.failed(f"拟稿人 {name} 第 {number} 件")
        desk.close()

    def _draft_by_cli(self, name: str, number: int, data: dict) -> tuple[int, str, list[str]]:
        path = self.served.home / f"notice-{number}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        drafted = self._cli("draft", str(path), "--as", name, "--pin", self.pins[name])
        submitted = self._cli("submit", str(drafted["id"]), "--as", name, "--pin", self.pins[name])
        return drafted["id"], submitted["flow_run_id"], submitted["waiting_for"]

    def desk(self, index: int) -> None:
        reviewer, signer = DESKS[index]
        desks = {name: self.served.desk(timeout=WAIT, as_person=name) for name in (reviewer, signer)}
        while (item := self.queues[index].get()) is not None:
            number, doc, run_id = item
            for name, expected in ((reviewer, {"awaiting_signature"}), (signer, {"archived", "dispatched"})):
                try:
                    if number % CLI_EVERY == 0:
                        state = self._cli("decide", str(doc), "--as", name, "--pin", self.pins[name], "--approve")
                        state = state["state"]
                    else:
                        answer = {"verdict": "同意", "opinion": "同意"}
                        by = Credentials(name, self.pins[name])
                        here = functools.partial(
                            deciding.decide, self.db, document_id=doc, by=by, approve=True, opinion="同意"
                        )
                        now = lifecycle.answer_form(
                            self.db, desks[name], run_id, document_id=doc, answer=answer, person=name, here=here
                        )
                        state = now.state.value
                    assert state in expected, (doc, name, state)
                except Exception:  # noqa: BLE001 - recorded, the test fails on it
                    self.failed(f"{name} 公文 {doc}")
                    break
        for desk in desks.values():
            desk.close()

    def _cli(self, *args: str) -> dict:
        result = self.served.cli("--json", *args)
        assert result.returncode == 0 and "Traceback" not in result.stderr, (args, result.stdout, result.stderr)
        return json.loads(result.stdout)

    def run(self) -> None:
        drafters = [threading.Thread(target=self.drafter, args=(i,)) for i in range(len(DRAFTERS))]
        desks = [threading.Thread(target=self.desk, args=(i,)) for i in range(len(DESKS))]
        for thread in drafters + desks:
            thread.start()
        for thread in drafters:
            thread.join()
        for waiting in self.queues:
            waiting.put(None)
        for thread in desks:
            thread.join()


def all_runs(served: Served, deployment: str) -> list:
    """Every flow run of a deployment (the API gives at most 200 a page)."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    def read(client):
        found = client.read_deployment_by_name(deployment)
        runs, page = [], None
        while page is None or len(page) == 200:
            only = DeploymentFilter(id=DeploymentFilterId(any_=[found.id]))
            page = client.read_flow_runs(deployment_filter=only, limit=200, offset=len(runs))
            runs += page
        return runs

    return served.desk()._call(read)


def settled(served: Served, deployment: str, count: int) -> list:
    """The deployment's runs once there are ``count`` of them and all have finished (or WAIT is over)."""
    deadline = time.monotonic() + WAIT
    while True:
        runs = all_runs(served, deployment)
        if (len(runs) >= count and all(run.state.is_final() for run in runs)) or time.monotonic() > deadline:
            return runs
        time.sleep(5)


def process_starts(log: Path) -> int:
    """Flow-run processes the served runner started: each says so once (a resumed run starts anew)."""
    return sum("Beginning flow run" in line for line in log.read_text(errors="replace").splitlines())


def unhandled_errors(log: Path) -> list[str]:
    """Lines of the server's log (Prefect server, runner, flow runs) that tell of an error nobody handled."""
    signs = ("Traceback", "Internal Server Error", "Exception in ASGI", "Crashed", "status code 5")
    return [line for line in log.read_text(errors="replace").splitlines() if any(sign in line for sign in signs)]


def test_eight_drafters_and_four_signers_issue_every_document_once_through_the_prefect_server(tmp_path, capsys):
    with load_databases() as databases, RetryCounter().installed() as retries:
        env = {
            "PREFECT_API_DATABASE_CONNECTION_URL": databases.prefect_url,
            "GONGWEN_DATABASE_URL": databases.gongwen_url,
            "GONGWEN_WAIT_SECONDS": str(WAIT),  # the share through the CLI waits as long as the threads do
        }
        served = Served(tmp_path / "home", extra_env=env)
        served.home.mkdir()
        upgrade(served.app.db.engine)
        served.load(parse_directory(load_directory()))
        served.start()
        try:
            with MemoryPeak(served.process.pid) as memory:
                started = time.monotonic()
                load = Load(served)
                load.run()
                answered = minutes_since(started)
                lifecycles = settled(served, LIFECYCLE, DOCUMENTS)
                distributions = settled(served, DISTRIBUTE, DOCUMENTS)
                duration = minutes_since(started)
            verified = served.cli("--json", "audit", "verify", "--all")
        finally:
            served.stop()
        db = served.app.db
        with db.transaction() as session:
            documents = list(session.exec(select(Document)))
            deliveries = list(session.exec(select(Delivery)))
            chain = audit_log.verify(session)
        log_errors = unhandled_errors(served.home / "server.log")
        starts = process_starts(served.home / "server.log")
        db.dispose()

    assert load.errors == [], "\n".join(load.errors[:5])
    assert len(documents) == DOCUMENTS
    assert Counter(d.state for d in documents) == {"dispatched": DOCUMENTS}
    numbers = [ReferenceNumber.parse(d.ref) for d in documents]
    assert {(n.code, n.year) for n in numbers} == {("汴打假", 2022)}
    assert sorted(n.serial for n in numbers) == list(range(1, DOCUMENTS + 1))  # no gap, no duplicate
    assert Counter(run.state.type.value for run in lifecycles) == {"COMPLETED": DOCUMENTS}
    assert {run.parameters["document_id"]: str(run.id) for run in lifecycles} == {
        doc: run_id for doc, run_id in load.runs.items()
    }
    assert Counter(run.state.type.value for run in distributions) == {"COMPLETED": DOCUMENTS}
    assert sorted(run.parameters["document_id"] for run in distributions) == sorted(load.runs)
    sent = Counter((d.document_id, d.recipient) for d in deliveries if d.status == "sent")
    assert len(sent) == len(deliveries) == DOCUMENTS * RECIPIENTS and set(sent.values()) == {1}
    assert len(list((served.home / "outbox").glob("*.eml"))) == DOCUMENTS * RECIPIENTS
    assert chain.ok, chain
    assert verified.returncode == 0, verified.stdout[-2000:]
    assert log_errors == [], "\n".join(log_errors[:20])

    with capsys.disabled():
        print(
            f"\n负载：{DOCUMENTS} 件公文（{DOCUMENTS // CLI_EVERY} 件经命令行），拟稿人 {len(DRAFTERS)}，签发席 {len(DESKS)}；"
            f"全部签发用时 {answered:.1f} 分钟，全部核发完毕 {duration:.1f} 分钟，"
            f"{DOCUMENTS / duration:.1f} 件/分钟；流程运行进程启动 {starts} 次；"
            f"客户端重试 {dict(retries.by_status) or 0}；服务器内存峰值 {memory.peak_bytes / 2**20:.0f} MiB"
        )
