"""Crash injection: 100 trials of ``gongwen issue`` killed (SIGKILL) between 签发 and 归档, then run again.

The documents are the seed notice (7 pages with its 印发件), sent to four recipients — two 主送, one
抄报, one 抄送 — so that every role is dispatched while the mail stays small; they are 已签发
beforehand through the domain. Each trial runs the real CLI as a separate process against
PostgreSQL (a fresh schema), the local write-once archive and an SMTP server on a real socket,
kills it at a random point of 登记, 印制 or 归档 (crash_helpers.py says how the point is drawn),
and issues the document again. Three trials run at a time, on different documents. Afterwards,
across every document of the run: one 发文字号 each and the year's serials gap-free; one archive
package each, no other object in the store, 四性检测 (``audit verify``) passing for all and for the
documents killed during 归档; one message per recipient as the mail server received them; the
audit chain intact; no LibreOffice process or temporary folder left behind by a killed process.
``GONGWEN_CRASH_SEED`` replays a run's draws.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from models.directory import parse_directory
from models.spec import DocumentSpec, parse_spec
from storage import audit_log
from storage.archive.local import LocalArchiveStore
from storage.database import Database
from storage.directory_store import save_directory
from tests.conftest import EXAMPLE
from tests.reliability.crash_helpers import (
    STATE_LABELS,
    HeadersRecorder,
    Issuing,
    Trials,
    alive,
    distribution,
    observed_run,
    window_lengths,
)
from tests.servers.smtp import SmtpServer
from tests.storage.helpers import signed_document

pytestmark = pytest.mark.reliability

TRIALS = 100
AT_ONCE = 3
#: Documents issued without a kill first, to measure the windows (one per worker, at the same time).
MEASURED = AT_ONCE
RECIPIENTS = {
    "to": ["开封市公安局", "开封海关"],
    "cc_report": ["省打击侵权假冒工作领导小组办公室"],
    "cc": ["杞县人民政府"],
}
VERIFIED_ONE_BY_ONE = 5


@pytest.fixture
def mail_server():
    server = SmtpServer()
    server.recorder = HeadersRecorder()
    server.start()
    yield server
    server.stop()


def _signed_documents(db: Database, count: int, pins: dict[str, str]) -> list[int]:
    """``count`` seed notices to RECIPIENTS, each through 核稿 and 签发 (已签发), in the domain."""
    data = yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8"))
    spec: DocumentSpec = parse_spec({**data, **RECIPIENTS})[0]
    return [signed_document(db, spec, pins).id for _ in range(count)]


def _last_serial(db: Database, year: int) -> int:
    with db.engine.connect() as connection:
        query = text("SELECT last_serial FROM reference_counters WHERE code = '汴打假' AND year = :year")
        return connection.execute(query, {"year": year}).scalar_one()


def _seeded_serial(directory_data: dict, year: int) -> int:
    """The last serial of the year used before gongwen (the directory's ``counters``), 0 if none."""
    seeds = directory_data.get("counters", [])
    return next((c["last"] for c in seeds if (c["code"], c["year"]) == ("汴打假", year)), 0)


class _Run:
    """Hands out the documents to the workers: a trial each, until TRIALS kills are counted; a draw that
    landed after 归档 is made again on a new document."""

    def __init__(self, trials: Trials, documents: list[int], pins: dict[str, str]) -> None:
        self.trials, self.documents, self.pins = trials, list(documents), pins
        self.lock = threading.Lock()

    def _next(self) -> int | None:
        with self.lock:
            return self.documents.pop(0) if self.documents else None

    def work(self) -> None:
        while (doc := self._next()) is not None:
            if not self.trials.trial(doc).counted:
                [again] = _signed_documents(self.trials.db, 1, self.pins)
                with self.lock:
                    self.documents.append(again)


def test_issuing_killed_at_random_points_then_run_again_numbers_archives_and_sends_each_document_once(
    tmp_path: Path,
    postgres_url: str,
    postgres_db: Database,
    mail_server: SmtpServer,
    directory_data: dict,
    pins: dict,
    capsys,
):
    started = time.monotonic()
    seed = int(os.environ.get("GONGWEN_CRASH_SEED", time.time_ns() % 10**9))
    with postgres_db.transaction() as session:
        save_directory(session, directory=parse_directory(directory_data))
    ids = _signed_documents(postgres_db, MEASURED + TRIALS, pins)
    issuing = Issuing(tmp_path / "home", postgres_url, mail_server.host, mail_server.port)
    store = LocalArchiveStore(issuing.home / "archive")
    prepared = time.monotonic()

    with ThreadPoolExecutor(AT_ONCE) as pool:
        measured = list(pool.map(lambda doc: observed_run(postgres_db, issuing, doc), ids[:MEASURED]))
    trials = Trials(postgres_db, issuing, store, window_lengths(measured), random.Random(seed))
    run = _Run(trials, ids[MEASURED:], pins)
    with ThreadPoolExecutor(AT_ONCE) as pool:
        for future in [pool.submit(run.work) for _ in range(AT_ONCE)]:
            future.result()
    ran = time.monotonic()
    ids = ids[:MEASURED] + [k.document_id for k in trials.kills]

    kills = trials.counted()
    figures = {
        "seed": seed,
        "documents": len(ids),
        "kills": len(kills),
        "draws_after_archiving": len(trials.kills) - len(kills),
        "window_seconds": {w: round(s, 3) for w, s in trials.windows.items()},
        **{name: dict(counter) for name, counter in distribution(kills).items()},
        "prepare_seconds": round(prepared - started, 1),
        "run_seconds": round(ran - prepared, 1),
    }
    failures = [
        (k.document_id, r.returncode, r.stderr[-800:])
        for k in kills
        for r in k.reruns
        if r.returncode != 0 or "Traceback" in r.stderr
    ]
    assert not failures, failures
    assert len(kills) == TRIALS, figures
    assert all(k.claims == 0 for k in kills), "a kill before 归档 completed left delivery claims"

    figures |= _one_number_each(postgres_db, ids, directory_data)
    figures |= _one_package_each(postgres_db, store, issuing, ids, kills)
    figures |= _one_message_each(postgres_db, mail_server.recorder, ids)
    figures |= _nothing_left_behind(kills)
    figures["total_seconds"] = round(time.monotonic() - started, 1)
    with capsys.disabled():
        print("\ncrash injection:", json.dumps(figures, ensure_ascii=False))
    assert {STATE_LABELS[s] for s in ("signed", "registered", "printed")} <= set(figures["state"]), figures


def _one_number_each(db: Database, ids: list[int], directory_data: dict) -> dict:
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, state, ref, ref_year, ref_serial FROM documents")).all()
        actions = Counter(
            (doc, action)
            for doc, action in connection.execute(text("SELECT document_id, action FROM audit_events"))
            if action in ("register", "print", "archive", "dispatch")
        )
    assert sorted(r.id for r in rows) == sorted(ids)
    assert {r.state for r in rows} == {"dispatched"}
    assert len({r.ref for r in rows}) == len(ids)
    [year] = {r.ref_year for r in rows}
    first = _seeded_serial(directory_data, year) + 1
    assert sorted(r.ref_serial for r in rows) == list(range(first, first + len(ids))), "发文顺序号有空号或重号"
    assert _last_serial(db, year) == first + len(ids) - 1
    wrong = {key: n for key, n in actions.items() if n != 1}
    assert not wrong and len(actions) == 4 * len(ids), wrong
    return {"serials": f"{first}–{first + len(ids) - 1} ({year})"}


def _one_package_each(db: Database, store: LocalArchiveStore, issuing: Issuing, ids: list[int], kills) -> dict:
    with db.engine.connect() as connection:
        records = connection.execute(
            text("SELECT document_id, archive_code, prefix, versions FROM archive_records")
        ).all()
    assert sorted(r.document_id for r in records) == sorted(ids)
    recorded = {(f"{r.prefix}/{name}", version) for r in records for name, version in r.versions.items()}
    stored = {(v.key, v.version_id) for v in store.versions("")}
    assert stored == recorded, f"意外的归档对象：{sorted(stored - recorded)[:5]}；缺少：{sorted(recorded - stored)[:5]}"
    assert not list((store.root / "staging").glob("*")), "中断的写入留下了暂存文件"

    result = issuing.cli("audit", "verify", "--all")
    report = json.loads(result.stdout)
    failed = [c for c in report["checks"] if not c["ok"]]
    assert result.returncode == 0 and report["ok"] and not failed, failed[:5]
    assert report["packages"] == len(ids)
    assert {c["archive_code"] for c in report["checks"] if "archive_code" in c} == {r.archive_code for r in records}

    during_archiving = [k.document_id for k in kills if k.state == "printed"][:VERIFIED_ONE_BY_ONE]
    with db.engine.connect() as connection:
        refs = connection.execute(
            text("SELECT ref FROM documents WHERE id = ANY(:ids)"), {"ids": during_archiving}
        ).scalars()
        for ref in refs:
            one = issuing.cli("audit", "verify", ref)
            assert one.returncode == 0 and json.loads(one.stdout)["ok"], one.stdout[-800:]
    with db.transaction() as session:
        assert audit_log.verify(session).ok
    return {"packages": len(records), "objects": len(stored), "verified_one_by_one": len(during_archiving)}


def _one_message_each(db: Database, recorder: HeadersRecorder, ids: list[int]) -> dict:
    with db.engine.connect() as connection:
        deliveries = connection.execute(
            text("SELECT d.status, doc.ref, d.address FROM deliveries d JOIN documents doc ON doc.id = d.document_id")
        ).all()
    assert {d.status for d in deliveries} == {"sent"}
    assert len(deliveries) == len(ids) * 4
    received = recorder.received_per_document()
    assert received == Counter({(d.ref, d.address): 1 for d in deliveries}), "收件人收到的份数不是恰好一份"
    return {"messages": sum(received.values())}


def _nothing_left_behind(kills) -> dict:
    survivors = {pid: start for k in kills for pid, start in k.survivors.items()}
    deadline = time.monotonic() + 60
    while alive(survivors) and time.monotonic() < deadline:
        time.sleep(0.5)
    folders = {folder for k in kills for folder in k.folders}
    leaked = sorted(str(f) for f in folders if f.exists())
    assert not alive(survivors), f"被杀进程留下的 LibreOffice 进程仍在运行：{sorted(alive(survivors))}"
    assert not leaked, f"被杀进程留下的临时目录：{leaked[:5]}（共 {len(leaked)} 个）"
    return {"orphaned_processes": len(survivors), "temporary_folders": len(folders)}
