"""Benchmark: putting and getting one archive package (归档包) in the archive stores.

What is measured
----------------
A package is the five files of one archived 件: document.docx (a real .docx with
Chinese paragraphs, the same in every package), document.pdf (a PDF whose streams are incompressible, like
an embedded CJK font subset), metadata.json, audit-trail.json and manifest.json:
about 200 KB in all. Every package goes under its own 档号 prefix.

*put*: the store's ``put`` of the five files with a 30年 COMPLIANCE lock (for S3:
PUT with lock and checksum headers, then a HEAD that checks the lock the server
kept). *get*: the store's ``get`` of the five files by version id.

Stores: the local folder (``LocalArchiveStore``, fsync per file) in a temporary
folder, and Ceph RGW (``S3ArchiveStore``) started by tests/servers/rgw.py when
its Debian packages are installed. The baseline is a bare ``minio`` client on
the same RGW: ``put_object`` with the same retention and ``get_object`` of the
same bytes, nothing else. The ratio is the store's median over the bare median.

The script prints figures and never fails. Everything shares the machine's CPUs
with the server, so figures move with other load.

    .venv/bin/python bench/archive.py [--packages N] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.servers.rgw starts the RGW

import docx  # noqa: E402
import urllib3  # noqa: E402
from minio import Minio  # noqa: E402
from minio.commonconfig import COMPLIANCE  # noqa: E402
from minio.retention import Retention  # noqa: E402

from models import archive_package as pkg  # noqa: E402
from models.vocabulary import Retention as Term  # noqa: E402
from storage.archive.base import ArchiveStore, Lock  # noqa: E402
from storage.archive.local import LocalArchiveStore  # noqa: E402
from storage.archive.s3 import S3ArchiveStore  # noqa: E402
from tests.servers.rgw import rgw_missing, running_rgw  # noqa: E402

Package = dict[str, bytes]
PARAGRAPH = (
    "为进一步规范公文处理工作，提高公文处理的质量和效率，根据《党政机关公文处理工作条例》"
    "和《党政机关公文格式》国家标准，结合本市实际，制定本办法。各县（区）人民政府、市人民政府各部门"
    "要高度重视，认真组织学习，严格贯彻执行，确保各项要求落到实处。"
)


# --- packages -------------------------------------------------------------------------


def make_docx(number: int) -> bytes:
    document = docx.Document()
    document.add_heading(f"关于印发《开封市公文处理办法》的通知（{number}）", level=1)
    for line in range(60):
        document.add_paragraph(f"{line + 1}. {PARAGRAPH}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pdf(number: int, stream_bytes: int = 140_000) -> bytes:
    """A valid PDF with one page and an incompressible stream (as a subset CJK font is)."""
    font = os.urandom(stream_bytes)
    text = f"BT /F1 12 Tf 72 720 Td (Notice {number}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FontFile3 6 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(font) + font + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for index, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % index + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_package(number: int, docx_bytes: bytes) -> tuple[str, Package]:
    code = pkg.archive_code("J001", 2022, Term.THIRTY_YEARS, number)
    metadata = {
        "archive_code": code,
        "fonds": "J001",
        "year": 2022,
        "retention": "30年",
        "item_no": number,
        "pages": 3,
        "ref": f"汴政〔2022〕{number}号",
        "title": "关于印发《开封市公文处理办法》的通知",
        "doc_type": "通知",
        "issuers": ["开封市人民政府"],
        "to": ["各县（区）人民政府", "市人民政府各部门"],
        "date": "2022-04-29",
    }
    trail = [
        {"id": i, "at": f"2022-04-2{i % 9}T09:00:00+08:00", "actor": "郭佳佳", "action": action,
         "detail": {"opinion": "同意。" * 5}, "prev_hash": "0" * 64, "hash": f"{i:064x}"}
        for i, action in enumerate(["draft", "submit", "approve", "approve", "register", "print", "dispatch"] * 3)
    ]
    files = {
        "document.docx": docx_bytes,
        "document.pdf": make_pdf(number),
        "metadata.json": json.dumps(metadata, ensure_ascii=False, indent=1).encode(),
        "audit-trail.json": json.dumps(trail, ensure_ascii=False, indent=1).encode(),
    }
    files[pkg.MANIFEST] = pkg.manifest_bytes(pkg.manifest(code, files))
    return pkg.object_key("J001", 2022, Term.THIRTY_YEARS, code, "").rstrip("/"), files


# --- measuring ------------------------------------------------------------------------


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def bench_store(store: ArchiveStore, packages: list[tuple[str, Package]], lock: Lock) -> tuple[list[float], list[float]]:
    puts, gets = [], []
    for prefix, files in packages:
        run = uuid.uuid4().hex[:8]  # every run writes new keys
        versions: dict[str, str] = {}

        def put_all() -> None:
            for name, data in files.items():
                versions[name] = store.put(f"{run}/{prefix}/{name}", data, metadata={"sha256": "x"}, lock=lock).version_id

        def get_all() -> None:
            for name, data in files.items():
                assert store.get(f"{run}/{prefix}/{name}", versions[name]) == data

        puts.append(timed(put_all))
        gets.append(timed(get_all))
    return puts, gets


def bench_bare(client: Minio, bucket: str, packages: list[tuple[str, Package]], lock: Lock) -> tuple[list[float], list[float]]:
    puts, gets = [], []
    retention = Retention(COMPLIANCE, lock.until)
    for prefix, files in packages:
        run = uuid.uuid4().hex[:8]
        versions: dict[str, str] = {}

        def put_all() -> None:
            for name, data in files.items():
                written = client.put_object(bucket, f"{run}/{prefix}/{name}", io.BytesIO(data), len(data), retention=retention)
                versions[name] = written.version_id

        def get_all() -> None:
            for name, data in files.items():
                response = client.get_object(bucket, f"{run}/{prefix}/{name}", version_id=versions[name])
                try:
                    assert response.read() == data
                finally:
                    response.close()
                    response.release_conn()

        puts.append(timed(put_all))
        gets.append(timed(get_all))
    return puts, gets


def report(rows: list[tuple[str, list[float], list[float]]], baseline: tuple[float, float] | None) -> None:
    header = f"{'store':<28}{'put ms (median / p95)':>24}{'get ms (median / p95)':>24}{'put ×bare':>11}{'get ×bare':>11}"
    print(header)
    print("-" * len(header))
    for name, puts, gets in rows:
        (put_median, put_p95), (get_median, get_p95) = summary(puts), summary(gets)
        ratios = ("", "")
        if baseline is not None:
            ratios = (f"{put_median / baseline[0]:.2f}", f"{get_median / baseline[1]:.2f}")
        print(f"{name:<28}{put_median:>13.1f} / {put_p95:>7.1f}{get_median:>16.1f} / {get_p95:>5.1f}{ratios[0]:>11}{ratios[1]:>11}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=50, help="packages per store (default 50)")
    parser.add_argument("--quick", action="store_true", help="10 packages per store")
    args = parser.parse_args()
    count = 10 if args.quick else args.packages

    docx_bytes = make_docx(1)
    packages = [make_package(n, docx_bytes) for n in range(1, count + 1)]
    warmup = [make_package(9000 + n, docx_bytes) for n in range(3)]
    sizes = [sum(len(d) for d in files.values()) for _, files in packages]
    lock = Lock("COMPLIANCE", dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=365 * 30))
    print(f"Archive package put/get: {count} packages of 5 files, {statistics.mean(sizes) / 1024:.0f} KB each "
          f"(docx {len(packages[0][1]['document.docx']) // 1024} KB, pdf {len(packages[0][1]['document.pdf']) // 1024} KB)")
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start\n")

    rows: list[tuple[str, list[float], list[float]]] = []
    baseline = None
    with tempfile.TemporaryDirectory(prefix="gwbench-archive-") as tmp:
        local = LocalArchiveStore(Path(tmp) / "local")
        bench_store(local, warmup, lock)
        rows.append(("local folder", *bench_store(local, packages, lock)))

        reason = rgw_missing()
        if reason is not None:
            print(f"(Ceph RGW skipped: {reason})\n")
        else:
            started = time.monotonic()
            with running_rgw(tmp) as rgw:
                print(f"Ceph RGW on {rgw.endpoint} (started in {time.monotonic() - started:.1f} s)\n")
                store = S3ArchiveStore.connect(rgw.endpoint, rgw.access_key, rgw.secret_key,
                                               bucket=f"gwbench-{uuid.uuid4().hex[:10]}", secure=False)
                store.ensure_bucket()
                http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=30), retries=False)
                bare = Minio(rgw.endpoint, rgw.access_key, rgw.secret_key, secure=False, region="us-east-1", http_client=http)
                bench_bare(bare, store.bucket, warmup, lock)
                bare_puts, bare_gets = bench_bare(bare, store.bucket, packages, lock)
                bench_store(store, warmup, lock)
                rows.append(("RGW, S3ArchiveStore", *bench_store(store, packages, lock)))
                rows.append(("RGW, bare minio (baseline)", bare_puts, bare_gets))
                baseline = (summary(bare_puts)[0], summary(bare_gets)[0])
    report(rows, baseline)
    print("\nput = 5 files with a COMPLIANCE lock (S3 store: + a HEAD per file checking the lock kept);"
          "\nget = 5 files by version id. ×bare = median over the bare minio median on the same RGW.")


if __name__ == "__main__":
    main()
