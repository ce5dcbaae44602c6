"""Benchmark: the auditor's find by 发文字号 among 100,000 archived documents, against a bare SELECT.

Fills a fresh database (SQLite under a temporary folder, and PostgreSQL at
127.0.0.1:5432 in a throwaway schema when it runs) with N archived documents —
a ``documents`` row with its 发文字号 and an ``archive_records`` row each —
then, for random numbers, times ``storage.archive_search.find(ref=…)`` in its own
transaction (the document and its record, as ORM rows) and, alternately with it, the
bare indexed ``SELECT id FROM documents WHERE ref = ?`` on a pooled connection (the baseline of
the targets), and the bare SELECT of the rows find returns (the document joined with its record:
what the query alone costs).

Each repeat (``--repeats``, default 5) looks up ``--lookups`` numbers and gives a p50 and a p95
of each; printed: the median over the repeats and their range, the ratio of the p95s, the load
average (one minute) as the row started. Targets on PostgreSQL: p95 ≤ 5 ms and ≤ 1.5× the bare
SELECT's. The script prints figures and never fails; the database server shares the machine's
CPUs, so figures move with other load.

    .venv/bin/python bench/find.py [--records N] [--lookups N] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from models.tables import ArchiveRecord, Document
from storage.archive_search import find
from storage.database import Database, sqlite_url
from storage.migrations import upgrade

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def fill(db: Database, count: int) -> list[str]:
    """``count`` archived documents 汴打假〔Y〕N号, in batches."""
    refs = []
    batch = 5000
    with db.engine.begin() as connection:
        for start in range(1, count + 1, batch):
            docs, records = [], []
            for n in range(start, min(start + batch, count + 1)):
                year, serial = 2000 + n % 25, n
                ref = f"汴打假〔{year}〕{serial}号"
                refs.append(ref)
                docs.append(
                    {
                        "id": n,
                        "doc_type": "通知",
                        "issuers": ["开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"],
                        "title": f"关于第{n}项工作的通知",
                        "to": [],
                        "body": "正文",
                        "attachments": [],
                        "cc_report": [],
                        "cc": [],
                        "retention": "30年",
                        "review": [],
                        "cosign": [],
                        "sign": "陈立新",
                        "state": "archived",
                        "drafter": "郭佳佳",
                        "version": 1,
                        "round": 1,
                        "lead_code": "汴打假",
                        "ref": ref,
                        "ref_code": "汴打假",
                        "ref_year": year,
                        "ref_serial": serial,
                    }
                )
                records.append(
                    {
                        "document_id": n,
                        "archive_code": f"J001-WS·{year}-D30-{n:06d}",
                        "fonds": "J001",
                        "year": year,
                        "retention": "30年",
                        "item_no": n,
                        "pages": 6,
                        "store": "local",
                        "prefix": f"J001/{year}/D30/{n}",
                        "manifest_sha256": "0" * 64,
                        "versions": {},
                    }
                )
            connection.execute(insert(Document), docs)
            connection.execute(insert(ArchiveRecord), records)
    return refs


TARGET_MS, TARGET_RATIO = 5.0, 1.5


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def find_once(db: Database, ref: str) -> None:
    with db.transaction() as session:
        found = find(session, ref=ref)
    assert found[0].document.ref == ref


def bare_once(db: Database, ref: str) -> None:
    with db.engine.connect() as connection:
        connection.execute(BARE, {"ref": ref}).scalar_one()


def rows_once(db: Database, ref: str) -> None:
    with db.engine.connect() as connection:
        connection.execute(ROWS, {"ref": ref}).one()


BARE = text("SELECT id FROM documents WHERE ref = :ref")
#: The rows find returns, in bare SQL: what the query alone costs, without the session and the ORM.
ROWS = text(
    "SELECT * FROM documents JOIN archive_records ON archive_records.document_id = documents.id WHERE ref = :ref"
)


def measure(db: Database, refs: list[str], lookups: int, seed: int) -> dict[str, tuple[float, float]]:
    """One repeat: (p50, p95) in ms of find, the bare SELECT and the bare SELECT of find's rows, in turn."""
    samples: dict[str, list[float]] = {"find": [], "bare": [], "rows": []}
    for ref in random.Random(seed).sample(refs, lookups):
        for name, call in (("find", find_once), ("bare", bare_once), ("rows", rows_once)):
            started = time.perf_counter()
            call(db, ref)
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: percentiles(values) for name, values in samples.items()}


def spread(values: list[float], unit: str = "") -> str:
    """The median and the range: ``1.23 (1.10–1.40)``."""
    return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}–{max(values):.2f})"


def run(name: str, db: Database, count: int, lookups: int, repeats: int, targets: bool) -> None:
    upgrade(db.engine)
    started = time.perf_counter()
    refs = fill(db, count)
    print(f"{name}: {count} archived documents filled in {time.perf_counter() - started:.1f} s")
    load = os.getloadavg()[0]
    measure(db, refs, min(lookups, 100), seed=0)  # warm-up: the pool, the statement caches
    runs = [measure(db, refs, lookups, seed=n + 1) for n in range(repeats)]
    print(f"  {repeats} repeats of {lookups} lookups, load average {load:.1f} at start")
    print(f"  {'':<24}{'p50 ms':>22}{'p95 ms':>22}")
    for label, key in (("find(ref=…)", "find"), ("bare SELECT by ref", "bare"), ("bare SELECT, find's rows", "rows")):
        p50s, p95s = [r[key][0] for r in runs], [r[key][1] for r in runs]
        print(f"  {label:<24}{spread(p50s):>22}{spread(p95s):>22}")
    ratios = [r["find"][1] / r["bare"][1] for r in runs]
    p95 = statistics.median(r["find"][1] for r in runs)
    ratio = statistics.median(ratios)
    print(f"  p95 ratio find / bare SELECT by ref: {spread(ratios, '×')}")
    rows = [r["find"][1] / r["rows"][1] for r in runs]
    print(f"  p95 ratio find / bare SELECT of find's rows (no target): {spread(rows, '×')}")
    if targets:
        print(
            f"  target p95 ≤ {TARGET_MS} ms: {'met' if p95 <= TARGET_MS else 'NOT met'}; "
            f"target ≤ {TARGET_RATIO}× the bare SELECT: {'met' if ratio <= TARGET_RATIO else 'NOT met'}"
        )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=300, help="lookups per repeat (default 300)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats, at least 3 (default 5)")
    args = parser.parse_args()
    repeats = max(3, args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        db = Database.from_url(sqlite_url(Path(folder) / "find.db"))
        run("SQLite", db, args.records, args.lookups, repeats, targets=False)
        db.dispose()
    schema = f"gwfind_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG)
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:  # noqa: BLE001 - no server: report and stop
        print(f"PostgreSQL not reachable ({type(error).__name__}); skipped")
        return
    try:
        db = Database.from_url(f"{PG}?options=-csearch_path%3D{schema}")
        run("PostgreSQL", db, args.records, args.lookups, repeats, targets=True)
        db.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
