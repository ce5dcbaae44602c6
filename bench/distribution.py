"""Benchmark: 核发 of one document to 1,000 recipients through a local SMTP server.

What is measured
----------------
*gongwen*: ``actions.distribution.dispatch`` of one 已归档 notice whose 主送 is a group of
1,000 agencies, through ``SmtpChannel`` to aiosmtpd on 127.0.0.1 (its own process,
the ``Sink`` handler, which accepts and drops): recipients
resolved, one delivery row each, claimed (签收码 hashed) and recorded as sent with
its audit entry, each message built (cover letter, the PDF attached) and sent over
one reused connection. The database is SQLite in a temporary folder (the embedded
default), or ``--url`` (a fresh PostgreSQL schema is made and dropped).

*bare*: a plain smtplib loop sending the same messages (built beforehand, untimed, by
the same builder: each recipient's cover letter and 签收码, the same attachment), over
one connection: the transport alone.

The PDF is random bytes of the seed notice's PDF/A size (about 520 KB), so each
message is about 700 KB on the wire. The script prints both rates, their ratio and
the targets of issue 5 (≥ 100 messages/s; within 1.5× of the bare loop) as met or
not met, and never fails. The SMTP server shares the machine's CPUs.

    .venv/bin/python bench/distribution.py [--recipients N] [--pdf-kb K] [--url URL]
"""

from __future__ import annotations

import argparse
import copy
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.servers.smtp runs the aiosmtpd server

from actions import deciding, drafting  # noqa: E402
from actions.distribution import MailOptions, dispatch  # noqa: E402
from delivery import SmtpChannel  # noqa: E402
from delivery.message import Letterhead, attachments, dispatch_message  # noqa: E402
from delivery.wire import wire_bytes  # noqa: E402
from models.directory import parse_directory  # noqa: E402
from models.distribution import new_ack_code, resolve_recipients  # noqa: E402
from models.identity import Credentials  # noqa: E402
from models.spec import parse_spec  # noqa: E402
from storage import archiving, registration  # noqa: E402
from storage.archive.local import LocalArchiveStore  # noqa: E402
from storage.database import Database, sqlite_url  # noqa: E402
from storage.directory_store import save_directory  # noqa: E402
from storage.migrations import upgrade  # noqa: E402
from storage.printing import Printed, record_printed  # noqa: E402
from tests.servers.smtp import free_port  # noqa: E402

EXAMPLE = ROOT / "examples" / "kaifeng"
GROUP = "千家收文单位"
SENDER = "djqqjm@kaifeng.example.cn"
TARGET_RATE, TARGET_RATIO = 100.0, 1.5


def directory_and_spec(recipients: int):
    """The kaifeng directory plus ``recipients`` agencies in one group, and the seed notice sent to it."""
    data = copy.deepcopy(yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8")))
    names = [f"收文单位{i:04d}" for i in range(recipients)]
    data["agencies"] += [{"name": name, "email": f"unit{i:04d}@example.cn"} for i, name in enumerate(names)]
    data["groups"].append({"name": GROUP, "members": names})
    pins = {p["name"]: p["pin"] for p in data["people"]}
    notice = yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8"))
    notice.update(to=[GROUP], cc_report=[], cc=[])
    spec, _ = parse_spec(notice)
    return parse_directory(data), spec, pins


def archived_document(db: Database, directory, spec, pins, pdf: bytes, folder: Path) -> int:
    with db.transaction() as session:
        save_directory(session, directory=directory)
    drafter = Credentials("郭佳佳", pins["郭佳佳"])
    document = drafting.draft(db, spec=spec, by=drafter)
    drafting.submit(db, document_id=document.id, by=drafter)
    for name in (*document.review, *document.cosign, document.sign):
        deciding.decide(db, document_id=document.id, by=Credentials(name, pins[name]), approve=True)
    registration.register(db, document_id=document.id)
    record_printed(
        db, document_id=document.id, files=[Printed("document.docx", b"PK"), Printed("document.pdf", pdf, pages=7)]
    )
    archiving.archive(db, LocalArchiveStore(folder / "archive"), document_id=document.id, store_name="local")
    return document.id


def same_messages(directory, spec, pdf: bytes) -> list[tuple[str, bytes]]:
    """What dispatch sends, built beforehand: (address, bytes) per recipient."""
    head = Letterhead(ref="汴打假〔2022〕3号", title=spec.title, issuer=spec.issuer[0], sender=SENDER)
    files = attachments(head, pdf=pdf)
    recipients = resolve_recipients(directory, to=spec.to, cc_report=spec.cc_report, cc=spec.cc)
    return [(r.address, wire_bytes(dispatch_message(head, r, code=new_ack_code()[0], files=files))) for r in recipients]


def bare_loop(port: int, messages: list[tuple[str, bytes]]) -> float:
    """Seconds for smtplib to send the messages over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for address, data in messages:
            smtp.sendmail(SENDER, [address], data)
    return time.perf_counter() - started


def start_server() -> tuple[subprocess.Popen, int]:
    """aiosmtpd with the Sink handler in a process of its own, listening on 127.0.0.1."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l", f"127.0.0.1:{port}"]
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("aiosmtpd did not start")


def fresh_schema(url: str) -> tuple[str, str]:
    schema = f"gwbench_{uuid.uuid4().hex[:10]}"
    with create_engine(url).begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    return schema, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def drop_schema(url: str, schema: str) -> None:
    with create_engine(url).begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument("--pdf-kb", type=int, default=508, help="size of the attached PDF (the seed's PDF/A: ~508 KiB)")
    parser.add_argument("--url", help="a PostgreSQL URL instead of SQLite in a temporary folder")
    args = parser.parse_args()

    load = os.getloadavg()[0]
    server, port = start_server()
    directory, spec, pins = directory_and_spec(args.recipients)
    pdf = b"%PDF-1.7\n" + os.urandom(args.pdf_kb * 1024)
    schema = None
    with tempfile.TemporaryDirectory(prefix="gwbench-mail-") as folder:
        if args.url:
            schema, url = fresh_schema(args.url)
        else:
            url = sqlite_url(Path(folder) / "gongwen.db")
        db = Database.from_url(url)
        upgrade(db.engine)
        try:
            document_id = archived_document(db, directory, spec, pins, pdf, Path(folder))
            channel = SmtpChannel("127.0.0.1", port, "none", None, None, SENDER)
            started = time.perf_counter()
            store = LocalArchiveStore(Path(folder) / "archive")
            report = dispatch(db, channel, document_id=document_id, options=MailOptions(sender=SENDER), store=store)
            ours = time.perf_counter() - started
        finally:
            db.dispose()
            if schema:
                drop_schema(args.url, schema)
    messages = same_messages(directory, spec, pdf)
    bare = bare_loop(port, messages)
    server.terminate()
    server.wait()

    sent = report.sent_now
    size = sum(len(data) for _, data in messages) / len(messages) / 1024
    ours_rate, bare_rate = sent / ours, len(messages) / bare
    ratio = ours / bare
    print(
        f"核发 of one notice to {args.recipients} recipients, aiosmtpd on 127.0.0.1, {'PostgreSQL' if args.url else 'SQLite'}"
        f" ({os.cpu_count()} CPUs, load average {load:.2f} at the start)"
    )
    print(f"message size on the wire: {size:,.0f} KiB; state after dispatch: {report.state.label}; sent {sent}")
    print(f"gongwen dispatch : {ours_rate:8.1f} messages/s ({ours:.2f} s)")
    print(f"bare smtplib loop: {bare_rate:8.1f} messages/s ({bare:.2f} s)")
    print(f"ratio (gongwen time / bare time): {ratio:.2f}×")
    print(f"target ≥ {TARGET_RATE:.0f} messages/s: {'met' if ours_rate >= TARGET_RATE else 'not met'}")
    print(f"target within {TARGET_RATIO}× of the bare loop: {'met' if ratio <= TARGET_RATIO else 'not met'}")


if __name__ == "__main__":
    main()
