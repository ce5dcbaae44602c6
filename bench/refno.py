"""Benchmark: 发文字号 allocation (登记) on PostgreSQL.

What is measured
----------------
*gongwen*: ``storage.registration.register`` — the real 登记 path: one
transaction that locks the document row, takes the next serial from
``reference_counters`` (``UPDATE … RETURNING``), writes the number and the new
state, and appends the hash-chained audit entry under the audit head lock.

*bare*: the floor the server allows for a gap-free counter — a loop of
``UPDATE counters SET last = last + 1 WHERE code = … AND year = … RETURNING last``,
one transaction (one commit) per increment, psycopg directly, one connection
per worker.

Both run with 1, 4 and 16 concurrent workers, each a separate process (the
"spawn" context). A worker connects before a barrier; the time
is the wall time from the first worker leaving the barrier to the last one
finishing. Every run starts from a fresh schema (``gwbench_<random>``,
dropped afterwards) holding N documents inserted directly in state 签发
``signed``, N split evenly between the workers, each document registered once.

Afterwards the serials are checked: for gongwen from the ``documents`` table
(and against the numbers ``register`` returned), for the bare loop from the
values returned; both must be exactly 1..N. gongwen's audit chain must verify
(``storage.audit_log.verify``: N entries, each hash and link intact).
"duplicates" counts serials handed out more than once, "gaps" counts numbers
of 1..N never handed out.

Targets (issue 2): ≥ 500 registrations/s at 16 workers with zero duplicates,
and gongwen within 2× of the bare loop (bare/gongwen ≤ 2 at 16 workers).
The script prints the figures and met / not met; it never fails the run.
Workers, the server and anything else on the machine share its CPUs: with 16
processes on a small machine the figures move with other load, so the header
shows the load average.

    .venv/bin/python bench/refno.py [--quick] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import queue
import signal
import sys
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from sqlalchemy import create_engine, func, make_url, select, text

from models.audit_chain import ChainReport
from models.tables import Document
from storage import audit_log
from storage.database import Database
from storage.migrations import upgrade
from storage.registration import register

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CODE, YEAR = "汴打假", 2022
WORKER_COUNTS = (1, 4, 16)
#: Registrations per run, by worker count (full run, --quick run).
FULL = {1: 500, 4: 1500, 16: 2000}
QUICK = {1: 100, 4: 200, 16: 400}
TARGET_RATE, TARGET_RATIO, TARGET_WORKERS = 500.0, 2.0, 16
BARRIER_TIMEOUT = 180  # seconds for 16 processes to import and connect on a small machine


# --- schema and data ------------------------------------------------------------------


def schema_url(base_url: str, schema: str) -> str:
    """``base_url`` with ``search_path`` set to ``schema`` for every connection."""
    return (
        make_url(base_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


def sqlalchemy_url(url: str) -> str:
    """``url`` with the psycopg (3) driver that gongwen uses, if it names none."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """The same URL for psycopg itself (no ``+psycopg`` driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_schema(base_url: str) -> Iterator[str]:
    """A new empty schema; yields a URL that uses it; drops it (CASCADE) afterwards."""
    schema = f"gwbench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(base_url, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def signed_document(number: int) -> Document:
    """A 通知 already 签发, ready to be registered."""
    return Document(
        doc_type="通知",
        issuers=["X"],
        title=f"关于基准测试的通知（{number}）",
        body="正文。",
        retention="30年",
        sign="someone",
        state="signed",
        drafter="d",
        lead_code=CODE,
        date=dt.date(YEAR, 4, 29),
    )


def insert_signed_documents(url: str, count: int) -> list[int]:
    """Migrate the schema and insert ``count`` signed documents; their ids."""
    db = Database.from_url(url)
    try:
        upgrade(db.engine)
        with db.transaction() as session:
            session.add_all(signed_document(n) for n in range(count))
        with db.transaction() as session:
            return list(session.scalars(select(Document.id).order_by(Document.id)))
    finally:
        db.dispose()


def registered_serials(url: str) -> tuple[list[int], int, ChainReport]:
    """The serials stored for (CODE, YEAR), how many documents have none, and the audit chain's check."""
    db = Database.from_url(url)
    try:
        with db.transaction() as session:
            numbered = Document.ref_code == CODE, Document.ref_year == YEAR
            serials = list(session.scalars(select(Document.ref_serial).where(*numbered)))
            unregistered = session.scalar(select(func.count()).where(Document.ref.is_(None)))
            chain = audit_log.verify(session)
        return serials, unregistered, chain
    finally:
        db.dispose()


def create_bare_counter(url: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("CREATE TABLE counters (code text, year int, last int NOT NULL, PRIMARY KEY (code, year))")
        connection.execute("INSERT INTO counters VALUES (%s, %s, 0)", (CODE, YEAR))


# --- workers (top-level functions: they run in spawned processes) ---------------------


def gongwen_worker(url: str, ids: list[int], barrier, results) -> None:
    """Register each document of ``ids`` with gongwen; report (start, end, serials, errors)."""
    db = Database.from_url(url)
    with db.engine.connect() as connection:  # open the pooled connection before the clock starts
        connection.execute(text("SELECT 1"))
    serials, errors = [], []
    barrier.wait(BARRIER_TIMEOUT)
    start = time.monotonic()
    for document_id in ids:
        try:
            serials.append(register(db, document_id=document_id).serial)
        except Exception:  # noqa: BLE001 - counted and reported, the run goes on
            errors.append(traceback.format_exc(limit=1))
    end = time.monotonic()
    db.dispose()
    results.put((start, end, serials, errors))


def bare_worker(url: str, count: int, barrier, results) -> None:
    """``count`` increments of the bare counter, one transaction each."""
    serials, errors = [], []
    with psycopg.connect(libpq_url(url)) as connection:
        barrier.wait(BARRIER_TIMEOUT)
        start = time.monotonic()
        for _ in range(count):
            try:
                row = connection.execute(
                    "UPDATE counters SET last = last + 1 WHERE code = %s AND year = %s RETURNING last", (CODE, YEAR)
                ).fetchone()
                connection.commit()
                serials.append(row[0])
            except Exception:  # noqa: BLE001
                connection.rollback()
                errors.append(traceback.format_exc(limit=1))
        end = time.monotonic()
    results.put((start, end, serials, errors))


# --- running and checking -------------------------------------------------------------


@dataclass
class Run:
    """One timed parallel phase."""

    seconds: float
    serials: list[int]
    errors: list[str]


def run_parallel(target: Callable, shares: list) -> Run:
    """Start one process per share, release them together, time first start to last finish."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(len(shares)), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*share, barrier, results)) for share in shares]
    for process in processes:
        process.start()
    reports = collect(processes, results)
    for process in processes:
        process.join()
    starts, ends, serials, errors = zip(*reports, strict=True)
    return Run(max(ends) - min(starts), [s for part in serials for s in part], [e for part in errors for e in part])


def collect(processes: list, results) -> list:
    """One report per process; if a process dies without one, stop the others and raise."""
    reports = []
    while len(reports) < len(processes):
        try:
            reports.append(results.get(timeout=1))
        except queue.Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                for process in processes:
                    process.terminate()
                message = f"a worker exited with code {dead[0].exitcode} before reporting (its traceback is above)"
                raise RuntimeError(message) from None
    return reports


def split(items: list, parts: int) -> list[list]:
    return [items[i::parts] for i in range(parts)]


def duplicates_and_gaps(serials: list[int], expected: int) -> tuple[int, int]:
    """Serials handed out more than once (extra copies), and numbers of 1..expected never handed out."""
    duplicates = sum(n - 1 for n in Counter(serials).values() if n > 1)
    gaps = len(set(range(1, expected + 1)) - set(serials))
    return duplicates, gaps


@dataclass
class Result:
    workers: int
    registrations: int
    gongwen_rate: float
    bare_rate: float
    duplicates: int
    gaps: int
    bare_duplicates: int
    bare_gaps: int
    notes: list[str]

    @property
    def ratio(self) -> float:
        return self.bare_rate / self.gongwen_rate if self.gongwen_rate else float("inf")


def measure(base_url: str, workers: int, registrations: int) -> Result:
    """Both measurements for one worker count, each on a fresh schema."""
    notes = []
    with fresh_schema(base_url) as url:
        ids = insert_signed_documents(url, registrations)
        gongwen = run_parallel(gongwen_worker, [(url, share) for share in split(ids, workers)])
        stored, unregistered, chain = registered_serials(url)
    duplicates, gaps = duplicates_and_gaps(stored, registrations)
    if gongwen.errors or unregistered:
        first = gongwen.errors[0].strip() if gongwen.errors else "-"
        notes.append(f"gongwen: {len(gongwen.errors)} failed, {unregistered} left unregistered; first error: {first}")
    if sorted(gongwen.serials) != sorted(stored):
        notes.append("gongwen: the numbers register returned differ from those stored")
    if not chain.ok or chain.checked != registrations:
        notes.append(f"gongwen: audit chain of {chain.checked} entries, {chain.reason or 'verifies'}")
    with fresh_schema(base_url) as url:
        create_bare_counter(url)
        bare = run_parallel(bare_worker, [(url, len(share)) for share in split(ids, workers)])
    bare_duplicates, bare_gaps = duplicates_and_gaps(bare.serials, registrations)
    if bare.errors:
        notes.append(f"bare: {len(bare.errors)} failed increments; first error: {bare.errors[0].strip()}")
    return Result(
        workers,
        registrations,
        registrations / gongwen.seconds,
        registrations / bare.seconds,
        duplicates,
        gaps,
        bare_duplicates,
        bare_gaps,
        notes,
    )


# --- report ---------------------------------------------------------------------------


COLUMNS = ("workers", "registrations", "gongwen reg/s", "bare reg/s", "ratio (bare/gongwen)", "duplicates", "gaps")


def print_table(results: list[Result]) -> None:
    widths = [len(name) for name in COLUMNS]
    header = "  ".join(COLUMNS)
    print(header)
    print("-" * len(header))
    for r in results:
        cells = (
            r.workers,
            r.registrations,
            f"{r.gongwen_rate:.0f}",
            f"{r.bare_rate:.0f}",
            f"{r.ratio:.2f}",
            r.duplicates,
            r.gaps,
        )
        print("  ".join(f"{cell:>{width}}" for cell, width in zip(cells, widths, strict=True)))
    for r in results:
        if r.bare_duplicates or r.bare_gaps:
            print(f"  ! bare loop at {r.workers} workers: {r.bare_duplicates} duplicates, {r.bare_gaps} gaps")
        for note in r.notes:
            print(f"  ! {r.workers} workers: {note}")


def print_targets(results: list[Result]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    headline = next((r for r in results if r.workers == TARGET_WORKERS), None)
    print("\nTargets")
    if headline is None:
        print(f"  (no run with {TARGET_WORKERS} workers)")
        return
    fast = headline.gongwen_rate >= TARGET_RATE and headline.duplicates == 0
    print(
        f"  ≥ {TARGET_RATE:.0f} registrations/s at {TARGET_WORKERS} workers with zero duplicates: "
        f"{headline.gongwen_rate:.0f}/s, {headline.duplicates} duplicates → {verdict(fast)}"
    )
    print(
        f"  within {TARGET_RATIO:.0f}× of the bare loop at {TARGET_WORKERS} workers: "
        f"ratio {headline.ratio:.2f} → {verdict(headline.ratio <= TARGET_RATIO)}"
    )
    clean = all(not (r.duplicates or r.gaps or r.notes) for r in results)
    print(f"  (check) serials exactly 1..N and the audit chain verifies in every gongwen run: {verdict(clean)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="fewer registrations per run (a smoke test, noisier figures)"
    )
    parser.add_argument("--url", default=DEFAULT_URL, help=f"PostgreSQL URL (SQLAlchemy form; default {DEFAULT_URL})")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still drop the schema when stopped
    sizes = QUICK if args.quick else FULL
    url = sqlalchemy_url(args.url)
    server = make_url(url)
    print(
        f"发文字号 allocation on {server.host}:{server.port}/{server.database}"
        f"{' (quick)' if args.quick else ''}; each worker is a process"
    )
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start (other load makes the figures noisy)\n"
    )
    began = time.monotonic()
    try:
        results = [measure(url, workers, sizes[workers]) for workers in WORKER_COUNTS]
    except RuntimeError as failure:
        sys.exit(f"benchmark stopped: {failure}")
    print_table(results)
    print_targets(results)
    print(f"\n(total {time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
