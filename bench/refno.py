"""Benchmark: 发文字号 allocation (登记) on PostgreSQL.

What is measured
----------------
*gongwen*: ``storage.registration.register`` — the real 登记 path: the document
read (its content checked against the digest its 签发 recorded), then one statement
that locks the document (still the row read), takes the next serial from
``reference_counters``, writes the number and the new state and appends the
hash-chained audit entry under the audit head lock, committed as its own
transaction.

*bare*: the floor the server allows for a gap-free counter — a loop of
``UPDATE counters SET last = last + 1 WHERE code = … AND year = … RETURNING last``,
one transaction (one commit) per increment, psycopg directly, one connection
per worker.

Both run with 1, 4 and 16 concurrent workers, each a separate process (the
"fork" context: the modules come imported), started once per worker count and kind; each does three rounds
(``--rounds``), all workers released together by a barrier at the start of each.
A round's time is the wall time from the first worker leaving the barrier to the
last one finishing; its CPU is the sum over the workers of their process time
(``time.process_time``: the client's CPU, not the server's) over the loop. Every
worker count starts from a fresh schema (``gwbench_<random>``, dropped afterwards)
holding the documents of all rounds, inserted directly in state 签发 ``signed``,
each registered once. Printed: medians over the rounds with their range, and the
load average (``os.getloadavg``, one minute) as each row started.

Afterwards the serials are checked: for gongwen from the ``documents`` table
(and against the numbers ``register`` returned), for the bare loop from the
values returned; both must be exactly 1..N. gongwen's audit chain must verify
(``storage.audit_log.verify``: N entries, each hash and link intact).
"duplicates" counts serials handed out more than once, "gaps" counts numbers
of 1..N never handed out.

Targets: ≥ 1000 registrations/s at 16 workers, the client's CPU per registration
≤ 1.3× a bare increment's, zero duplicates and gaps, the chain intact.
The script prints the figures and met / not met; it never fails the run.
Workers, the server and anything else on the machine share its CPUs: with 16
processes on a small machine the figures move with other load, hence the load average.

    .venv/bin/python bench/refno.py [--quick] [--rounds N] [--url postgresql+psycopg://…]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import queue
import signal
import statistics
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
#: Registrations per round, by worker count (full run, --quick run).
FULL = {1: 150, 4: 500, 16: 800}
QUICK = {1: 40, 4: 100, 16: 200}
ROUNDS = 3
TARGET_RATE, TARGET_CPU_RATIO, TARGET_WORKERS = 1000.0, 1.3, 16
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


# --- workers (top-level functions: they run in forked processes) ---------------------


def rounds_timed(rounds: list, barrier, step: Callable[[object], int]) -> tuple[list, list[str]]:
    """Each round after the barrier: ``step`` of each of its items; per round (start, end, CPU seconds, values)."""
    timed, errors = [], []
    for items in rounds:
        values = []
        barrier.wait(BARRIER_TIMEOUT)
        start, cpu = time.monotonic(), time.process_time()
        for item in items:
            try:
                values.append(step(item))
            except Exception:  # noqa: BLE001 - counted and reported, the run goes on
                errors.append(traceback.format_exc(limit=1))
        timed.append((start, time.monotonic(), time.process_time() - cpu, values))
    return timed, errors


def gongwen_worker(url: str, warm_up: int, rounds: list[list[int]], barrier, results) -> None:
    """Register ``warm_up`` (connecting before the clock starts), then each document of each round; report
    per round, the warm-up's number and the errors."""
    db = Database.from_url(url)
    first = register(db, document_id=warm_up).serial
    timed, errors = rounds_timed(rounds, barrier, lambda document_id: register(db, document_id=document_id).serial)
    db.dispose()
    results.put((timed, errors, [first]))


def bare_worker(url: str, rounds: list[int], barrier, results) -> None:
    """Each round, its count of increments of the bare counter, one transaction each."""
    with psycopg.connect(libpq_url(url)) as connection:

        def increment(_) -> int:
            try:
                row = connection.execute(
                    "UPDATE counters SET last = last + 1 WHERE code = %s AND year = %s RETURNING last", (CODE, YEAR)
                ).fetchone()
                connection.commit()
            except Exception:
                connection.rollback()
                raise
            return row[0]

        timed, errors = rounds_timed([range(count) for count in rounds], barrier, increment)
    results.put((timed, errors, []))


# --- running and checking -------------------------------------------------------------


@dataclass
class Round:
    """One timed parallel round: its wall time, the workers' CPU, the values handed out."""

    seconds: float
    cpu: float
    values: list[int]


def run_parallel(target: Callable, shares: list) -> tuple[list[Round], list[int], list[str]]:
    """Start one process per share, release them together each round, time first start to last finish;
    the rounds, the values handed out before the first, the errors."""
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(len(shares)), ctx.Queue()
    processes = [ctx.Process(target=target, args=(*share, barrier, results)) for share in shares]
    for process in processes:
        process.start()
    reports = collect(processes, results)
    for process in processes:
        process.join()
    rounds = []
    for per_worker in zip(*(timed for timed, _, _ in reports), strict=True):
        starts, ends, cpus, values = zip(*per_worker, strict=True)
        rounds.append(Round(max(ends) - min(starts), sum(cpus), [v for part in values for v in part]))
    untimed = [v for _, _, values in reports for v in values]
    return rounds, untimed, [error for _, errors, _ in reports for error in errors]


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


@dataclass(frozen=True)
class Figures:
    """Medians and ranges over the rounds of one kind (gongwen or bare)."""

    rates: list[float]  # registrations (increments) per second
    cpu_ms: list[float]  # the client's CPU milliseconds per registration

    @classmethod
    def of(cls, rounds: list[Round], per_round: int) -> Figures:
        return cls([per_round / r.seconds for r in rounds], [1000 * r.cpu / per_round for r in rounds])


@dataclass
class Result:
    workers: int
    per_round: int
    load: float
    gongwen: Figures
    bare: Figures
    duplicates: int
    gaps: int
    notes: list[str]

    @property
    def rate_ratios(self) -> list[float]:
        """bare/gongwen registrations per second, round by round."""
        return [b / g for b, g in zip(self.bare.rates, self.gongwen.rates, strict=True)]

    @property
    def cpu_ratios(self) -> list[float]:
        """gongwen/bare CPU per registration, round by round."""
        return [g / b for g, b in zip(self.gongwen.cpu_ms, self.bare.cpu_ms, strict=True)]


def measure(base_url: str, workers: int, per_round: int, rounds: int) -> Result:
    """Both measurements for one worker count, each on a fresh schema, ``rounds`` rounds each."""
    notes, load, total = [], os.getloadavg()[0], workers + per_round * rounds
    with fresh_schema(base_url) as url:
        ids = insert_signed_documents(url, total)
        warm_ups, timed = ids[:workers], ids[workers:]
        by_round = [split(timed[r * per_round : (r + 1) * per_round], workers) for r in range(rounds)]
        shares = [(url, warm_ups[w], [by_round[r][w] for r in range(rounds)]) for w in range(workers)]
        gongwen, untimed, errors = run_parallel(gongwen_worker, shares)
        stored, unregistered, chain = registered_serials(url)
    duplicates, gaps = duplicates_and_gaps(stored, total)
    if errors or unregistered:
        first = errors[0].strip() if errors else "-"
        notes.append(f"gongwen: {len(errors)} failed, {unregistered} left unregistered; first error: {first}")
    if sorted(untimed + [v for r in gongwen for v in r.values]) != sorted(stored):
        notes.append("gongwen: the numbers register returned differ from those stored")
    if not chain.ok or chain.checked != total:
        notes.append(f"gongwen: audit chain of {chain.checked} entries, {chain.reason or 'verifies'}")
    with fresh_schema(base_url) as url:
        create_bare_counter(url)
        counts = [(url, [len(by_round[r][w]) for r in range(rounds)]) for w in range(workers)]
        bare, _, bare_errors = run_parallel(bare_worker, counts)
    bare_duplicates, bare_gaps = duplicates_and_gaps([v for r in bare for v in r.values], per_round * rounds)
    if bare_errors or bare_duplicates or bare_gaps:
        first = bare_errors[0].strip() if bare_errors else "-"
        notes.append(f"bare: {len(bare_errors)} failed, {bare_duplicates} duplicates, {bare_gaps} gaps; {first}")
    gongwen_figures, bare_figures = Figures.of(gongwen, per_round), Figures.of(bare, per_round)
    return Result(workers, per_round, load, gongwen_figures, bare_figures, duplicates, gaps, notes)


# --- report ---------------------------------------------------------------------------


def spread(values: list[float], form: str = ".0f") -> str:
    """The median and, in brackets, the range."""
    return f"{statistics.median(values):{form}} [{min(values):{form}}–{max(values):{form}}]"


COLUMNS = (
    ("workers", 7),
    ("load", 5),
    ("gongwen reg/s", 17),
    ("bare reg/s", 18),
    ("bare/gongwen", 17),
    ("CPU ms gongwen", 19),
    ("CPU ms bare", 19),
    ("CPU gongwen/bare", 17),
    ("dup", 3),
    ("gaps", 4),
)


def print_table(results: list[Result]) -> None:
    header = "  ".join(f"{name:>{width}}" for name, width in COLUMNS)
    print(header)
    print("-" * len(header))
    for r in results:
        cells = (
            r.workers,
            f"{r.load:.1f}",
            spread(r.gongwen.rates),
            spread(r.bare.rates),
            spread(r.rate_ratios, ".2f"),
            spread(r.gongwen.cpu_ms, ".2f"),
            spread(r.bare.cpu_ms, ".2f"),
            spread(r.cpu_ratios, ".2f"),
            r.duplicates,
            r.gaps,
        )
        print("  ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True)))
    for r in results:
        for note in r.notes:
            print(f"  ! {r.workers} workers: {note}")


def print_targets(results: list[Result]) -> None:
    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    headline = next((r for r in results if r.workers == TARGET_WORKERS), None)
    print("\nTargets (medians over the rounds)")
    if headline is None:
        print(f"  (no run with {TARGET_WORKERS} workers)")
        return
    rate, cpu = statistics.median(headline.gongwen.rates), statistics.median(headline.cpu_ratios)
    print(
        f"  ≥ {TARGET_RATE:.0f} registrations/s at {TARGET_WORKERS} workers: {rate:.0f}/s → {verdict(rate >= TARGET_RATE)}"
    )
    print(
        f"  client CPU per registration ≤ {TARGET_CPU_RATIO}× a bare increment's at {TARGET_WORKERS} workers: "
        f"{cpu:.2f}× → {verdict(cpu <= TARGET_CPU_RATIO)}"
    )
    clean = all(not (r.duplicates or r.gaps or r.notes) for r in results)
    print(
        f"  (check) no duplicates or gaps (serials exactly 1..N), the audit chain verifies, in every run: {verdict(clean)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer registrations per round (a smoke test, noisier)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds per worker count, ≥ 1 ({ROUNDS})")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"PostgreSQL URL (SQLAlchemy form; default {DEFAULT_URL})")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still drop the schema when stopped
    sizes = QUICK if args.quick else FULL
    url = sqlalchemy_url(args.url)
    server = make_url(url)
    print(
        f"发文字号 allocation on {server.host}:{server.port}/{server.database}"
        f"{' (quick)' if args.quick else ''}; each worker is a process; {args.rounds} rounds per row"
    )
    print(f"{os.cpu_count()} CPUs; load = the one-minute load average as each row started (other load makes noise)\n")
    began = time.monotonic()
    try:
        results = [measure(url, workers, sizes[workers], max(1, args.rounds)) for workers in WORKER_COUNTS]
    except RuntimeError as failure:
        sys.exit(f"benchmark stopped: {failure}")
    print("Medians over the rounds [range]; CPU: the client's, per registration (increment)")
    print_table(results)
    print_targets(results)
    print(f"\n(total {time.monotonic() - began:.0f} s)")


if __name__ == "__main__":
    main()
