"""Benchmark: 核发 of one document through a local SMTP server (aiosmtpd) and a real MTA (Postfix).

What is measured
----------------
*gongwen*: ``actions.distribution.dispatch`` of one 已归档 notice whose 主送 is a group of
N agencies, through ``SmtpChannel`` with ``--connections`` connections (GONGWEN_MAIL_CONNECTIONS,
default 4): recipients resolved, one delivery row each, claimed (签收码 hashed) and
recorded as sent with its audit entry, each message built (cover letter, the PDF
attached, serialised once per dispatch) and sent, one sender thread per connection, each
connection reused for many messages. The database is SQLite in a temporary folder (the
embedded default), or ``--url`` (a fresh PostgreSQL schema is made and dropped).

*bare*: plain smtplib sending the same messages (built beforehand, untimed, by the same
builder: each recipient's cover letter and 签收码, the same attachment): one loop over
one connection, and ``--connections`` threads each looping over its own connection
(the like-for-like baseline of gongwen's parallel 核发). It is ``smtplib.sendmail``
unchanged: its dot-stuffing is a regular expression over the whole message (about 10 ms
of a 700 KiB message, holding the interpreter lock), which gongwen's channel does with
``bytes.replace`` — so gongwen can be faster than the bare loops.

The servers: aiosmtpd on 127.0.0.1 (its own process, the ``Sink`` handler, which accepts
and drops), and a private Postfix from Debian (tests/servers/postfix.py: its own queue,
delivering to a Maildir, as root; skipped with the reason when it cannot run). A run is
timed until the server has answered the last message (Postfix: queued, fsynced); before
the next run the Postfix queue is left to deliver everything and the Maildir is emptied.

The PDF is random bytes of the seed notice's PDF/A size (about 508 KiB), so each message
is about 697 KiB on the wire. Each row is the median of ``--repeats`` runs (3) with
the range; gongwen's time over the bare parallel loop's is the ratio. By default each
run sends to 200 recipients (the whole script then takes about 90 s on a quiet machine); ``--recipients
1000`` is the count the target is set for. The target: ≥ 200 messages/s to the real MTA with the
default connections. The machine's CPUs are shared by the servers, the database and
gongwen; the load average is printed with each server's rows. It never fails.

    .venv/bin/python bench/distribution.py [--recipients N] [--repeats R] [--connections C] [--pdf-kb K] [--url URL]
"""

from __future__ import annotations

import argparse
import copy
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
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
from gongwen.settings import Settings  # noqa: E402
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
from tests.servers.postfix import PostfixError, postfix_missing, running_postfix  # noqa: E402
from tests.servers.smtp import free_port  # noqa: E402

EXAMPLE = ROOT / "examples" / "kaifeng"
GROUP = "千家收文单位"
SENDER = "djqqjm@kaifeng.example.cn"
TARGET_RATE = 200.0  # messages/s to the real MTA
CONNECTIONS = Settings.model_fields["mail_connections"].default


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


def archived_document(db: Database, spec, pins, pdf: bytes, folder: Path) -> int:
    """The notice drafted, approved, registered, printed (``pdf``) and archived: ready for 核发."""
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


def bare_loop(port: int, messages: list[tuple[str, bytes]]) -> None:
    """smtplib sending the messages over one connection."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        for address, data in messages:
            smtp.sendmail(SENDER, [address], data)


def bare_threads(port: int, messages: list[tuple[str, bytes]], threads: int) -> None:
    """``threads`` smtplib loops at once, each over its own connection, the messages dealt out among them."""
    loops = [threading.Thread(target=bare_loop, args=(port, messages[i::threads])) for i in range(threads)]
    for loop in loops:
        loop.start()
    for loop in loops:
        loop.join()


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


class Bench:
    """The archived notices to dispatch (one per gongwen run) and the bare messages, in one database."""

    def __init__(self, db: Database, folder: Path, args: argparse.Namespace) -> None:
        self.db, self.folder, self.args = db, folder, args
        self.directory, self.spec, self.pins = directory_and_spec(args.recipients)
        self.pdf = b"%PDF-1.7\n" + os.urandom(args.pdf_kb * 1024)
        with db.transaction() as session:
            save_directory(session, directory=self.directory)
        self.messages = same_messages(self.directory, self.spec, self.pdf)

    def gongwen(self, port: int) -> Callable[[], int]:
        """A run of dispatch to the server at ``port``, its notice archived beforehand (untimed)."""
        document_id = archived_document(self.db, self.spec, self.pins, self.pdf, self.folder)
        store = LocalArchiveStore(self.folder / "archive")
        channel = SmtpChannel("127.0.0.1", port, "none", None, None, SENDER, connections=self.args.connections)

        def run() -> int:
            return dispatch(
                self.db, channel, document_id=document_id, options=MailOptions(sender=SENDER), store=store
            ).sent_now

        return run


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def rates(sent: int, seconds: list[float]) -> str:
    per_second = sorted(sent / s for s in seconds)
    return f"{statistics.median(per_second):7.1f} messages/s (range {per_second[0]:.1f}–{per_second[-1]:.1f})"


def measure(bench: Bench, name: str, port: int, settle: Callable[[], None]) -> float:
    """Interleaved repeats of gongwen and the two bare loops to one server; prints the rows, returns
    gongwen's median rate."""
    args, messages = bench.args, bench.messages
    load = os.getloadavg()
    times: dict[str, list[float]] = {"gongwen": [], "bare": [], "bare parallel": []}
    for _ in range(args.repeats):
        run = bench.gongwen(port)
        times["gongwen"].append(timed(run))
        settle()
        times["bare"].append(timed(lambda: bare_loop(port, messages)))
        settle()
        times["bare parallel"].append(timed(lambda: bare_threads(port, messages, args.connections)))
        settle()
    n, c = len(messages), args.connections
    ours, bare, parallel = (statistics.median(times[k]) for k in ("gongwen", "bare", "bare parallel"))
    print(f"\n{name} — load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start of these runs")
    print(f"  gongwen dispatch, {c} connections  : {rates(n, times['gongwen'])}")
    print(f"  bare smtplib, {c} threads × 1 conn.: {rates(n, times['bare parallel'])}")
    print(f"  bare smtplib loop, 1 connection   : {rates(n, times['bare'])}")
    print(f"  ratio gongwen time / bare parallel time: {ours / parallel:.2f}× (/ bare loop: {ours / bare:.2f}×)")
    return n / ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=200, help="recipients per run (the target is set for 1000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="GONGWEN_MAIL_CONNECTIONS")
    parser.add_argument("--pdf-kb", type=int, default=508, help="size of the attached PDF (the seed's PDF/A: ~508 KiB)")
    parser.add_argument("--url", help="a PostgreSQL URL instead of SQLite in a temporary folder")
    args = parser.parse_args()

    schema = None
    with tempfile.TemporaryDirectory(prefix="gwbench-mail-") as folder:
        if args.url:
            schema, url = fresh_schema(args.url)
        else:
            url = sqlite_url(Path(folder) / "gongwen.db")
        db = Database.from_url(url)
        upgrade(db.engine)
        try:
            bench = Bench(db, Path(folder), args)
            size = sum(len(data) for _, data in bench.messages) / len(bench.messages) / 1024
            print(
                f"核发 of one notice to {args.recipients} recipients, {size:,.0f} KiB per message on the wire, "
                f"{'PostgreSQL' if args.url else 'SQLite'}, {os.cpu_count()} CPUs; medians of {args.repeats} runs"
            )
            server, port = start_server()
            try:
                measure(bench, "aiosmtpd (Python) on 127.0.0.1", port, lambda: None)
            finally:
                server.terminate()
                server.wait()
            real = postfix_rows(bench)
        finally:
            db.dispose()
            if schema:
                drop_schema(args.url, schema)
    if real is None:
        print(f"\ntarget ≥ {TARGET_RATE:.0f} messages/s to the real MTA: not measured (no Postfix here)")
    else:
        print(
            f"\ntarget ≥ {TARGET_RATE:.0f} messages/s to the real MTA: {'met' if real >= TARGET_RATE else 'not met'}"
            f" ({real:.1f} messages/s)"
        )


def postfix_rows(bench: Bench) -> float | None:
    """The rows of the real MTA, or None (with the reason) when Postfix cannot run here."""
    reason = postfix_missing()
    if reason is not None:
        print(f"\nPostfix: not measured — {reason}")
        return None
    with running_postfix() as postfix:

        def settle() -> None:  # let the queue deliver what the run sent, then empty the Maildir
            for file in postfix.wait_delivered(len(bench.messages), timeout=300):
                file.unlink()

        try:
            return measure(
                bench, "Postfix (Debian, a private instance delivering to a Maildir) on 127.0.0.1", postfix.port, settle
            )
        except PostfixError as error:
            print(f"\nPostfix: {error}")
            return None


if __name__ == "__main__":
    main()
