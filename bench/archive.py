"""Benchmark: putting one archive package (归档包) into the archive stores, against the bare writes.

What is measured
----------------
A package is the five files of one archived 件: document.docx (a real .docx with
Chinese paragraphs, the same in every package), document.pdf (a PDF whose streams are incompressible, like
an embedded CJK font subset), metadata.json, audit-trail.json and manifest.json:
about 200 KB in all. Every package goes under its own 档号 prefix.

Local folder (``LocalArchiveStore`` in a temporary folder): *put* is the store's ``put`` of one file
with a 30年 COMPLIANCE lock, *package* the five puts of a package; the baseline, in the same loop and
folder's file system, is a bare write + fsync of the same bytes into a new file (per file, and the
five of a package); *get* is ``get`` of the key against a bare read of the bare file.
Target: put ≤ 1.3× the bare write + fsync (per file and per package).

Ceph RGW (``S3ArchiveStore``, started by tests/servers/rgw.py when its Debian packages are installed,
``bash .ci/ceph-packages.sh``): put and get of a package (PUT with lock and checksum headers, then a
HEAD that checks the lock the server kept) against a bare ``minio`` client on the same RGW
(``put_object`` with the same retention, ``get_object``). No target; a few packages by default,
since RGW starts slowly and its puts take tens of ms.

Each figure is the median of one repeat's samples; printed: the median over the repeats
(``--repeats``, default 5) and their range, the load average (one minute) as each row started.
The script prints figures and never fails. Everything shares the machine's CPUs (and RGW), so
figures move with other load.

    .venv/bin/python bench/archive.py [--packages N] [--rgw-packages N] [--repeats N] [--quick]
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
from dataclasses import dataclass, field
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
from storage.archive.base import Lock  # noqa: E402
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
        {
            "id": i,
            "at": f"2022-04-2{i % 9}T09:00:00+08:00",
            "actor": "郭佳佳",
            "action": action,
            "detail": {"opinion": "同意。" * 5},
            "prev_hash": "0" * 64,
            "hash": f"{i:064x}",
        }
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

TARGET = 1.3
LOCK = Lock("COMPLIANCE", dt.datetime.now(dt.UTC) + dt.timedelta(days=365 * 30))


def timed(call: Callable[..., object], *args: object, **named: object) -> float:
    started = time.perf_counter()
    call(*args, **named)
    return (time.perf_counter() - started) * 1000


def bare_write(path: Path, data: bytes) -> None:
    """A new file with ``data``, flushed to disk: the floor of putting one archived file."""
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


@dataclass
class Repeat:
    """One repeat's samples (ms) by row name."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])


def local_repeat(store: LocalArchiveStore, bare: Path, packages: list[tuple[str, Package]]) -> Repeat:
    """Each package put file by file into the store and written bare, alternately, then read back."""
    repeat = Repeat()
    for prefix, files in packages:
        run = uuid.uuid4().hex[:8]  # every repeat writes new keys and files
        ours, floor = [], []
        for name, data in files.items():
            key, path = f"{run}/{prefix}/{name}", bare / f"{run}-{prefix.replace('/', '-')}-{name}"
            ours.append(timed(store.put, key, data, metadata={"sha256": pkg.digest(data)["sha256"]}, lock=LOCK))
            floor.append(timed(bare_write, path, data))
            repeat.add("get", timed(store.get, key))
            repeat.add("get bare", timed(path.read_bytes))
        for label, samples in (("put", ours), ("put bare", floor)):
            repeat.samples.setdefault(label, []).extend(samples)
            repeat.add(f"package {label}", sum(samples))
    return repeat


def rgw_repeat(store: S3ArchiveStore, bare: Minio, packages: list[tuple[str, Package]]) -> Repeat:
    """Each package put and got through the store and through the bare client, alternately."""
    repeat = Repeat()
    retention = Retention(COMPLIANCE, LOCK.until)
    for prefix, files in packages:
        run = uuid.uuid4().hex[:8]
        ours, theirs = {}, {}
        repeat.add(
            "package put", sum(timed(_store_put, store, f"{run}/s/{prefix}/{n}", d, ours) for n, d in files.items())
        )
        repeat.add(
            "package put bare",
            sum(
                timed(_bare_put, bare, store.bucket, f"{run}/b/{prefix}/{n}", d, retention, theirs)
                for n, d in files.items()
            ),
        )
        repeat.add("package get", sum(timed(store.get, f"{run}/s/{prefix}/{n}", ours[n]) for n in files))
        repeat.add(
            "package get bare",
            sum(timed(_bare_get, bare, store.bucket, f"{run}/b/{prefix}/{n}", theirs[n]) for n in files),
        )
    return repeat


def _store_put(store: S3ArchiveStore, key: str, data: bytes, versions: dict[str, str]) -> None:
    versions[key.rpartition("/")[2]] = store.put(key, data, metadata={"sha256": "x"}, lock=LOCK).version_id


def _bare_put(
    client: Minio, bucket: str, key: str, data: bytes, retention: Retention, versions: dict[str, str]
) -> None:
    written = client.put_object(bucket, key, io.BytesIO(data), len(data), retention=retention)
    versions[key.rpartition("/")[2]] = written.version_id


def _bare_get(client: Minio, bucket: str, key: str, version_id: str) -> None:
    response = client.get_object(bucket, key, version_id=version_id)
    try:
        response.read()
    finally:
        response.close()
        response.release_conn()


def repeated(run: Callable[[], Repeat], repeats: int) -> tuple[list[Repeat], float]:
    """``repeats`` runs after a warm-up one; and the load average as they started."""
    load = os.getloadavg()[0]
    run()
    return [run() for _ in range(repeats)], load


def report(title: str, repeats: list[Repeat], load: float, rows: list[tuple[str, str, float | None]]) -> None:
    """One line per (row, its bare baseline, its target ratio or None): medians over the repeats with
    their range, and the ratio."""
    print(f"{title} — {len(repeats)} repeats, load average {load:.1f} at start")
    print(f"  {'row':<13}{'ours ms':>22}{'bare ms':>22}{'ratio':>20}  target")
    for row, baseline, target in rows:
        ours = [r.median(row) for r in repeats]
        bare = [r.median(baseline) for r in repeats]
        ratios = [o / b for o, b in zip(ours, bare, strict=True)]
        ratio = statistics.median(ratios)
        verdict = "—" if target is None else f"≤ {target}×: {'met' if ratio <= target else 'NOT met'}"
        print(
            f"  {row:<13}{_spread(ours, '.2f'):>22}{_spread(bare, '.2f'):>22}{_spread(ratios, '.2f', '×'):>20}  {verdict}"
        )
    print()


def _spread(values: list[float], form: str, unit: str = "") -> str:
    """The median and the range: ``1.23 (1.10–1.40)``."""
    return f"{statistics.median(values):{form}}{unit} ({min(values):{form}}–{max(values):{form}})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packages", type=int, default=40, help="packages per repeat, local folder (default 40)")
    parser.add_argument("--rgw-packages", type=int, default=4, help="packages per repeat, Ceph RGW (default 4)")
    parser.add_argument("--repeats", type=int, default=5, help="repeats, each after a warm-up (default 5)")
    parser.add_argument("--quick", action="store_true", help="10 local and 2 RGW packages, 3 repeats")
    args = parser.parse_args()
    local_count, rgw_count, repeats = (10, 2, 3) if args.quick else (args.packages, args.rgw_packages, args.repeats)
    repeats = max(3, repeats)

    docx_bytes = make_docx(1)
    packages = [make_package(n, docx_bytes) for n in range(1, local_count + 1)]
    sizes = [sum(len(d) for d in files.values()) for _, files in packages]
    print(
        f"Archive package put: packages of 5 files, {statistics.mean(sizes) / 1024:.0f} KB each "
        f"(docx {len(docx_bytes) // 1024} KB, pdf {len(packages[0][1]['document.pdf']) // 1024} KB); "
        f"{os.cpu_count()} CPUs\n"
    )
    with tempfile.TemporaryDirectory(prefix="gwbench-archive-") as tmp:
        store, bare = LocalArchiveStore(Path(tmp) / "local"), Path(tmp) / "bare"
        bare.mkdir()
        runs, load = repeated(lambda: local_repeat(store, bare, packages), repeats)
        report(
            f"Local folder, {local_count} packages a repeat",
            runs,
            load,
            [("put", "put bare", TARGET), ("package put", "package put bare", TARGET), ("get", "get bare", None)],
        )
        print("  put/package put: LocalArchiveStore.put of each file (of the package) against a bare write + fsync")
        print("  of the same bytes into a new file; get: get of the key against a bare read of that file.\n")
        bench_rgw(Path(tmp), packages[:rgw_count], repeats)


def bench_rgw(folder: Path, packages: list[tuple[str, Package]], repeats: int) -> None:
    reason = rgw_missing()
    if reason is not None:
        print(f"(Ceph RGW skipped: {reason})")
        return
    started = time.monotonic()
    with running_rgw(folder) as rgw:
        print(f"Ceph RGW on {rgw.endpoint} (started in {time.monotonic() - started:.1f} s)")
        store = S3ArchiveStore.connect(
            rgw.endpoint, rgw.access_key, rgw.secret_key, bucket=f"gwbench-{uuid.uuid4().hex[:10]}", secure=False
        )
        store.ensure_bucket()
        http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=30), retries=False)
        bare = Minio(rgw.endpoint, rgw.access_key, rgw.secret_key, secure=False, region="us-east-1", http_client=http)
        runs, load = repeated(lambda: rgw_repeat(store, bare, packages), repeats)
        report(
            f"Ceph RGW, {len(packages)} packages a repeat",
            runs,
            load,
            [("package put", "package put bare", None), ("package get", "package get bare", None)],
        )
        print("  S3ArchiveStore (+ a HEAD per file checking the lock kept) against bare minio on the same RGW.")


if __name__ == "__main__":
    main()
