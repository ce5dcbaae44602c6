"""`audit find` latency by 发文字号 among 100,000 archived records (target: p95 ≤ 10 ms).

Fills a fresh database (SQLite under a temporary folder, and PostgreSQL at
127.0.0.1:5432 in a throwaway schema when it runs) with N archived documents —
a ``documents`` row with its 发文字号 and an ``archive_records`` row each —
then times ``storage.archive_search.find(ref=…)`` for random numbers, and the
bare indexed ``SELECT … WHERE ref = ?`` on the same table as the baseline.
Prints p50 / p95 in ms and the ratio; no asserts.
"""

from __future__ import annotations

import argparse
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


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def measure(db: Database, refs: list[str], lookups: int) -> tuple[list[float], list[float]]:
    picks = random.Random(7).sample(refs, lookups)
    ours, bare = [], []
    bare_sql = text("SELECT id FROM documents WHERE ref = :ref")
    for ref in picks:
        started = time.perf_counter()
        with db.transaction() as session:
            found = find(session, ref=ref)
        ours.append((time.perf_counter() - started) * 1000)
        assert found[0].document.ref == ref
        started = time.perf_counter()
        with db.engine.connect() as connection:
            connection.execute(bare_sql, {"ref": ref}).scalar_one()
        bare.append((time.perf_counter() - started) * 1000)
    return ours, bare


def run(name: str, db: Database, count: int, lookups: int) -> None:
    upgrade(db.engine)
    started = time.perf_counter()
    refs = fill(db, count)
    print(f"{name}: {count} archived records filled in {time.perf_counter() - started:.1f} s")
    ours, bare = measure(db, refs, lookups)
    (o50, o95), (b50, b95) = percentiles(ours), percentiles(bare)
    verdict = "met" if o95 <= 10 else "NOT MET"
    print(f"  audit find --ref   p50 {o50:6.2f} ms   p95 {o95:6.2f} ms   (target p95 ≤ 10 ms: {verdict})")
    print(f"  bare SELECT by ref p50 {b50:6.2f} ms   p95 {b95:6.2f} ms   ratio p95 {o95 / b95:.2f}×\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Database.from_url(sqlite_url(Path(folder) / "find.db"))
        run("SQLite", db, args.records, args.lookups)
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
        run("PostgreSQL", db, args.records, args.lookups)
        db.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
