"""登记 under concurrency: separate processes take gap-free, unique 发文顺序号.

- 8 processes × 50 registrations of distinct documents on PostgreSQL → exactly 1..400,
  and an audit chain of 400 entries that verifies;
- 4 processes on SQLite → the same;
- 8 processes registering one document at once → one number.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from sqlmodel import select

from models.tables import Document
from storage import audit_log
from storage.database import Database, sqlite_url
from storage.migrations import upgrade

WORKER = Path(__file__).with_name("registration_worker.py")


def signed_documents(db: Database, count: int) -> list[int]:
    """Documents already 已签发 (the review steps are tested elsewhere)."""
    rows = [
        Document(
            doc_type="通知",
            issuers=["开封市打击侵犯知识产权和制售假冒伪劣商品工作领导小组"],
            title=f"测试通知 {i}",
            body="正文",
            retention="30年",
            sign="陈立新",
            state="signed",
            drafter="郭佳佳",
            lead_code="汴打假",
        )
        for i in range(count)
    ]
    with db.transaction() as session:
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def run_workers(url: str, shares: list[list[int]]) -> list[list[int]]:
    start = time.time() + 3.0
    processes = [
        subprocess.Popen(
            [sys.executable, str(WORKER), url, str(start), ",".join(map(str, share))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for share in shares
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.extend(json.loads(out))
    return results


def serials_in_table(db: Database) -> list[int]:
    with db.transaction() as session:
        return sorted(session.exec(select(Document.ref_serial).where(Document.ref_serial.is_not(None))))


def _distinct_documents(db: Database, url: str, workers: int, each: int) -> None:
    ids = signed_documents(db, workers * each)
    shares = [ids[i::workers] for i in range(workers)]
    results = run_workers(url, shares)
    serials = sorted(serial for _, serial in results)
    assert serials == list(range(1, workers * each + 1))
    assert serials_in_table(db) == serials
    with db.transaction() as session:
        report = audit_log.verify(session)
    assert (report.ok, report.checked) == (True, workers * each), report.reason


def test_8_processes_x_50_on_postgresql_give_1_to_400(postgres_db, postgres_url):
    _distinct_documents(postgres_db, postgres_url, workers=8, each=50)


def test_4_processes_on_sqlite_give_gap_free_serials(tmp_path):
    url = sqlite_url(tmp_path / "gongwen.db")
    db = Database.from_url(url)
    upgrade(db.engine)
    _distinct_documents(db, url, workers=4, each=50)


def test_one_document_registered_from_8_processes_gets_one_number(postgres_db, postgres_url):
    [document_id] = signed_documents(postgres_db, 1)
    results = run_workers(postgres_url, [[document_id]] * 8)
    assert {serial for _, serial in results} == {1}
    assert serials_in_table(postgres_db) == [1]
