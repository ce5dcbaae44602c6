"""Benchmark: 发文办理 through Prefect. Prints figures, asserts nothing.

1. *Latency*: a real ``gongwen server`` (Prefect server + served deployments, SQLite
   under a temporary home); one seed notice taken to 待签发 through its lifecycle
   run, then the signer's answer is sent through the API and the clock runs until the
   document is 已归档 (登记, 印制 with LibreOffice's PDF/A, 归档). Printed with the part
   spent before the run's first issuing task starts (the runner picking the resumed
   run up and starting its process) and the part spent in the tasks.
2. *Bulk throughput*: N already-signed notices issued by one ``issue-documents``
   flow run against a Prefect server (each document: the 登记, 印制, 归档 and
   issued-event tasks, results persisted), against the same domain steps in a plain
   loop without Prefect. Both "without PDF": the PDF step is a stand-in writing a
   one-page PDF, so the figures compare orchestration, not LibreOffice. Ratio and
   the targets of issue 6 (≤ 2× the plain loop; ≥ 10 documents/s).

    .venv/bin/python bench/lifecycle.py [--documents N] [--skip-latency]

The Prefect server runs on the same 2 CPUs as the benchmark.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
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
TARGET_RATIO, TARGET_RATE = 2.0, 10.0


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
    home: Path, db: Database, store: LocalArchiveStore, ids: list[int], prefect_database: str | None
) -> float:
    """Seconds for one issue-documents flow run over ``ids`` against a Prefect server (its state in
    SQLite under ``home``, or in ``prefect_database``)."""
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

        with temporary_settings({PREFECT_API_URL: server.api_url, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            issue_documents([])  # first run: imports and connections, not timed
            time.sleep(3)  # let the server write the first run's events (SQLite answers 503 while it does)
            started = time.perf_counter()
            numbers = issue_documents(ids)
            elapsed = time.perf_counter() - started
    assert len(set(numbers.values())) == len(ids)
    return elapsed


def latency() -> tuple[float, float]:
    """(seconds from the 签发 answer to 已归档, of which before the first issuing task started)."""
    from tests.prefect.documents import PINS, document, drafted_and_submitted, to_signature
    from tests.prefect.served import Served

    with tempfile.TemporaryDirectory(prefix="gongwen-bench-") as folder:
        served = Served(Path(folder) / "home")
        served.home.mkdir()
        data = yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))
        served.load(parse_directory(data))
        served.start()
        try:
            doc, run_id = drafted_and_submitted(served, Path(folder))
            to_signature(served, doc)
            desk = served.desk()
            desk.wait(run_id)
            started = time.perf_counter()
            desk.answer(run_id, {"verdict": "同意", "opinion": "", "person": "陈立新", "pin": PINS["陈立新"]})
            first_task = None
            while (state := document(served, doc).state) != "archived":
                if first_task is None and state != "awaiting_signature":
                    first_task = time.perf_counter()
                time.sleep(0.01)
            done = time.perf_counter()
        finally:
            served.stop()
    return done - started, (first_task or done) - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument(
        "--prefect-database",
        metavar="URL",
        help="the Prefect server's database for the bulk part, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/prefect_bench "
        "(default: SQLite under the temporary home, as gongwen server does)",
    )
    args = parser.parse_args()
    print(f"lifecycle benchmark — {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    if not args.skip_latency:
        total, waiting = latency()
        print(f"签发 → 已归档 (served run, LibreOffice PDF/A): {total:.2f} s")
        print(
            f"  of which until the resumed run's first issuing step: {waiting:.2f} s; issuing: {total - waiting:.2f} s"
        )
    with tempfile.TemporaryDirectory(prefix="gongwen-bench-") as folder:
        home = Path(folder)
        db = Database.from_url(sqlite_url(home / "gongwen.db"))
        upgrade(db.engine)
        ids = signed_documents(db, 2 * args.documents)
        store = LocalArchiveStore(home / "archive")
        plain = plain_loop(db, store, ids[: args.documents])
        prefect = through_prefect(home, db, store, ids[args.documents :], args.prefect_database)
    n = args.documents
    plain_rate, prefect_rate = n / plain, n / prefect
    ratio = prefect / plain
    where = "PostgreSQL" if args.prefect_database else "SQLite"
    print(f"bulk, {n} signed documents, gongwen on SQLite, Prefect server on {where}, PDF stand-in:")
    print(f"  plain loop:              {plain_rate:6.1f} documents/s ({1000 * plain / n:.1f} ms each)")
    print(f"  issue-documents (Prefect): {prefect_rate:6.1f} documents/s ({1000 * prefect / n:.1f} ms each)")
    print(f"  ratio Prefect / plain:   {ratio:.2f}×")
    print(f"target ≤ {TARGET_RATIO:.0f}× the plain loop: {'met' if ratio <= TARGET_RATIO else 'not met'}")
    print(
        f"target ≥ {TARGET_RATE:.0f} documents/s through Prefect: {'met' if prefect_rate >= TARGET_RATE else 'not met'}"
    )


if __name__ == "__main__":
    main()
