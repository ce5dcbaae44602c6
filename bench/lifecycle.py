"""Benchmark: 发文办理 through Prefect. Prints figures, asserts nothing, never fails.

1. *Latency*: a real ``gongwen server`` (Prefect server + served deployments, SQLite
   under a temporary home); seed notices taken one after another to 待签发 through
   their lifecycle runs, then for each the signer's answer is sent through the API and
   the clock runs until the document is 已归档 (登记, 印制 with PDF/A through the
   server's LibreOffice converter pool, 归档). The first sign-off is a warm-up, printed
   but not counted: it is the server's first 印制 (a converter's first document) and
   the first issuing run of its processes. Then the median of ``--repeats`` sign-offs
   with the range, and each split into the part until the document leaves 待签发 (the
   resumed run started, the 签发 applied) and the issuing.
   Target: ≤ 1.5 s (median).
2. *Bulk throughput*: ``--documents`` already-signed notices issued by one
   ``issue-documents`` flow run against a Prefect server (each document: one
   persisted 发文办理 task doing 登记, 印制, 归档 and the issued event), against the same domain
   steps in a plain loop without Prefect; ``--repeats`` of each (the Prefect runs on
   one server, after one untimed run). Both "without PDF": the PDF step is a stand-in
   writing a one-page PDF, so the figures compare orchestration, not LibreOffice.
   Medians with ranges and the ratio repeat by repeat; targets ≤ 1.3× the plain loop
   and ≥ 15 documents/s.

    .venv/bin/python bench/lifecycle.py [--documents N] [--repeats R] [--skip-latency] [--prefect-database URL]

The Prefect server runs on the same 2 CPUs as the benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.prefect.served runs gongwen server for the latency part

from actions import (  # noqa: E402
    deciding,
    drafting,
    issuing,  # noqa: E402
)
from actions.distribution import MailOptions  # noqa: E402
from flows.runtime import Services, provide  # noqa: E402
from gongwen.server import free_port, prefect_environment, running_prefect_server  # noqa: E402
from models.directory import parse_directory  # noqa: E402
from models.distribution import ChasePolicy  # noqa: E402
from models.identity import Credentials  # noqa: E402
from models.spec import parse_spec  # noqa: E402
from storage import archiving, registration  # noqa: E402
from storage.archive.local import LocalArchiveStore  # noqa: E402
from storage.database import Database, sqlite_url  # noqa: E402
from storage.directory_store import save_directory  # noqa: E402
from storage.migrations import upgrade  # noqa: E402

EXAMPLE = ROOT / "examples" / "kaifeng"
TARGET_LATENCY, TARGET_RATIO, TARGET_RATE = 1.5, 1.3, 15.0


class OnePagePdf:
    """A stand-in PDF converter: a blank one-page PDF, at no cost (the bulk figures leave LibreOffice out)."""

    def convert(self, docx: Path, pdf: Path, *, pdfa: bool = False) -> None:
        from pypdf import PdfWriter

        writer = PdfWriter()
        writer.add_blank_page(595, 842)
        with pdf.open("wb") as out:
            writer.write(out)

    def close(self) -> None:
        return None


def signed_documents(db: Database, count: int) -> list[int]:
    """``count`` seed notices, each 核稿 and 签发 (已签发)."""
    data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
    pins = {p["name"]: p["pin"] for p in data["people"]}
    spec, _ = parse_spec(yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8")))
    with db.transaction() as session:
        save_directory(session, directory=parse_directory(data))
    ids = []
    for _ in range(count):
        drafter = Credentials("郭佳佳", pins["郭佳佳"])
        document = drafting.draft(db, spec=spec, by=drafter)
        drafting.submit(db, document_id=document.id, by=drafter)
        for name in (*document.review, *document.cosign, document.sign):
            deciding.decide(db, document_id=document.id, by=Credentials(name, pins[name]), approve=True)
        ids.append(document.id)
    return ids


def plain_loop(db: Database, store: LocalArchiveStore, ids: list[int]) -> float:
    """Seconds for 登记, 印制 (stand-in PDF) and 归档 of each document, without Prefect."""
    converter = OnePagePdf()
    started = time.perf_counter()
    for document_id in ids:
        registration.register(db, document_id=document_id)
        issuing.print_once(db, document_id=document_id, converter=converter)
        archiving.archive(db, store, document_id=document_id, store_name="local")
    return time.perf_counter() - started


def through_prefect(
    home: Path, db: Database, store: LocalArchiveStore, batches: list[list[int]], prefect_database: str | None
) -> list[float]:
    """Seconds for one issue-documents flow run over each of ``batches`` in turn, against one Prefect
    server (its state in SQLite under ``home``, or in ``prefect_database``)."""
    services = Services(
        db=db,
        archive_store=store,
        store_name="local",
        lock_mode="COMPLIANCE",
        open_channel=lambda: None,
        mail=MailOptions(sender="bench@localhost"),
        chase=ChasePolicy(remind_after=dt.timedelta(days=3), escalate_after=2),
        converter=OnePagePdf(),
    )
    provide(lambda: services)
    if prefect_database:
        os.environ["PREFECT_API_DATABASE_CONNECTION_URL"] = prefect_database
    with running_prefect_server(home, free_port()) as server:
        os.environ.update(prefect_environment(home, server))
        from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        from flows.lifecycle import issue_documents

        times = []
        with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            for name in ("prefect.flow_runs", "prefect.task_runs"):  # a line per task would bury the figures
                logging.getLogger(name).setLevel(logging.WARNING)
            issue_documents([])  # first run: imports and connections, not timed
            for ids in batches:
                time.sleep(3)  # let the server write the previous run's events (SQLite answers 503 while it does)
                started = time.perf_counter()
                numbers = issue_documents(ids)
                times.append(time.perf_counter() - started)
                assert len(set(numbers.values())) == len(ids)
    return times


@dataclass(frozen=True)
class SignOff:
    """One 签发 answer's way to 已归档: seconds in all, and of which before the document left 待签发."""

    total: float
    waiting: float

    @property
    def issuing(self) -> float:
        return self.total - self.waiting


def latency(sign_offs: int) -> list[SignOff]:
    """``sign_offs`` documents, one after another, each taken to 待签发 on one served ``gongwen server``
    and then signed: for each, the time from the answer sent to 已归档."""
    from tests.prefect.documents import COSIGNERS, document, drafted_and_submitted
    from tests.prefect.served import Served

    measured, desks = [], {}
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-") as folder:
        served = Served(Path(folder) / "home")
        served.home.mkdir()
        data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
        served.load(parse_directory(data))
        served.start()
        try:
            for number in range(sign_offs):
                drafts = Path(folder) / f"draft-{number}"
                drafts.mkdir()
                doc, run_id = drafted_and_submitted(served, drafts)
                for name in ("李红梅", *COSIGNERS):  # 核稿 and 会签 through the 门户, as the UI sends them
                    desk = desks.setdefault(name, served.desk(as_person=name))
                    form = desk.wait(run_id).state_details.pause_key
                    desk.answer(run_id, {"verdict": "同意", "opinion": ""})
                    desk.wait(run_id, after_key=form)
                signer = desks.setdefault("陈立新", served.desk(as_person="陈立新"))
                time.sleep(0.5)  # the server has written the events of the run's suspension
                started = time.perf_counter()
                signer.answer(run_id, {"verdict": "同意", "opinion": ""})
                first_task = None
                while (state := document(served, doc).state) != "archived":
                    if first_task is None and state != "awaiting_signature":
                        first_task = time.perf_counter()
                    time.sleep(0.01)
                done = time.perf_counter()
                measured.append(SignOff(done - started, (first_task or done) - started))
        finally:
            served.stop()
    return measured


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """The median and the range [min–max] of ``values`` times ``scale``."""
    low, mid, high = (scale * v for v in (min(values), statistics.median(values), max(values)))
    return f"{mid:.{digits}f} [{low:.{digits}f}–{high:.{digits}f}]"


def verdict(met: bool) -> str:
    return "target met" if met else "target not met"


def report_latency(repeats: int) -> None:
    try:
        warm_up, *timed = latency(repeats + 1)
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not fail
        print(f"签发 → 已归档: not measured ({type(error).__name__}: {error})")
        return
    print(
        f"签发 → 已归档, served run (PDF/A through the server's converter pool), {len(timed)} sign-offs one after "
        f"another on one server (load average {os.getloadavg()[0]:.2f}):"
    )
    print(f"  warm-up, not counted (the server's first 印制 and first runs): {warm_up.total:.2f} s")
    total = [s.total for s in timed]
    print(f"  answer → 已归档:                median {spread(total)} s")
    print(f"    until the document leaves 待签发: median {spread([s.waiting for s in timed])} s")
    print(f"    issuing (登记, 印制, 归档):       median {spread([s.issuing for s in timed])} s")
    print(
        f"  target 签发 → 已归档 ≤ {TARGET_LATENCY} s (median): {verdict(statistics.median(total) <= TARGET_LATENCY)}"
    )


def report_bulk(documents: int, repeats: int, prefect_database: str | None) -> None:
    try:
        with tempfile.TemporaryDirectory(prefix="gongwen-bench-") as folder:
            home = Path(folder)
            db = Database.from_url(sqlite_url(home / "gongwen.db"))
            upgrade(db.engine)
            ids = signed_documents(db, 2 * repeats * documents)
            batches = [ids[i : i + documents] for i in range(0, len(ids), documents)]
            store = LocalArchiveStore(home / "archive")
            load = os.getloadavg()[0]
            plain = [plain_loop(db, store, batch) for batch in batches[:repeats]]
            prefect = through_prefect(home, db, store, batches[repeats:], prefect_database)
    except Exception as error:  # noqa: BLE001 - a benchmark reports, it does not fail
        print(f"bulk: not measured ({type(error).__name__}: {error})")
        return
    where = "PostgreSQL" if prefect_database else "SQLite"
    print(
        f"bulk, {documents} signed documents a repeat, {repeats} repeats each, gongwen on SQLite, Prefect server on "
        f"{where}, PDF stand-in (load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end):"
    )
    plain_rates = [documents / t for t in plain]
    prefect_rates = [documents / t for t in prefect]
    ratios = [p / q for p, q in zip(prefect, plain, strict=True)]  # repeat i of each, in the order they ran
    print(
        f"  plain loop:                documents/s median {spread(plain_rates, digits=1)}, "
        f"ms each {spread(plain, 1000 / documents, 1)}"
    )
    print(
        f"  issue-documents (Prefect): documents/s median {spread(prefect_rates, digits=1)}, "
        f"ms each {spread(prefect, 1000 / documents, 1)}"
    )
    print(f"  ratio Prefect / plain (repeat by repeat): median {spread(ratios)}×")
    ratio = statistics.median(ratios)
    print(f"  target ≤ {TARGET_RATIO}× the plain loop (median ratio): {verdict(ratio <= TARGET_RATIO)}")
    rate = statistics.median(prefect_rates)
    print(f"  target ≥ {TARGET_RATE:.0f} documents/s through Prefect (median): {verdict(rate >= TARGET_RATE)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50, help="documents a bulk repeat issues (default 50)")
    parser.add_argument("--repeats", type=int, default=3, help="timed sign-offs and bulk repeats (default 3)")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--prefect-database",
        metavar="URL",
        help="the Prefect server's database for the bulk part, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/prefect_bench "
        "(default: SQLite under the temporary home, as gongwen server does)",
    )
    args = parser.parse_args()
    repeats, documents = max(args.repeats, 1), max(args.documents, 1)
    print(f"lifecycle benchmark — {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    if not args.skip_latency:
        report_latency(repeats)
    report_bulk(documents, repeats, args.prefect_database)


if __name__ == "__main__":
    main()
