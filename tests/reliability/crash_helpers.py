"""Crash injection into 发文办理: ``gongwen issue`` killed with SIGKILL between 签发 and 归档, then run again.

A trial picks one of the three windows of the issuing process — 登记 (from the start of the
process until the 发文字号 is taken), 印制 (until the .docx and PDF/A are kept) and 归档 (until
the package is in the store and recorded) — uniformly at random, and a delay uniformly at random
within that window's measured length. When the window opens (the process starts; the document
turns 已登记; it turns 已印制) the clock runs for that delay; then the process is stopped
(SIGSTOP), its committed state read, and — if 归档 has not completed yet — killed with SIGKILL.
A draw that lands after 归档 is let run on (SIGCONT) and not counted: a kill during 核发 is
another test's matter. After the kill the trial records what the crash left behind (the state,
files of its package already in the store, delivery claims, LibreOffice processes that outlived their
parent, their temporary folders) and runs ``gongwen issue`` again to the end.
"""

from __future__ import annotations

import email
import email.policy
import os
import random
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from storage.archive.local import LocalArchiveStore
from storage.database import Database
from tests.servers.smtp import Recorder

GONGWEN = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "gongwen"
#: The windows a kill can land in, and the state each one opens with (None: the start of the process).
WINDOWS = {"登记": None, "印制": "registered", "归档": "printed"}
#: States in the order issuing reaches them.
ORDER = ("signed", "registered", "printed", "archived", "dispatched")
STATE_LABELS = {
    "signed": "已签发",
    "registered": "已登记",
    "printed": "已印制",
    "archived": "已归档",
    "dispatched": "已核发",
}
POLL_SECONDS = 0.01
RUN_SECONDS = 300
REF = re.compile(r"[^\s】]+〔\d{4}〕\d+号")


class HeadersRecorder(Recorder):
    """The test SMTP server's recorder, keeping each message's header only (the PDF is ~0.7 MB a message)."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        head = envelope.content.split(b"\r\n\r\n", 1)[0]
        self.received.append((list(envelope.rcpt_tos), head))
        return "250 Message accepted"

    def received_per_document(self) -> Counter[tuple[str, str]]:
        """How many messages each (发文字号, address) got."""
        counts: Counter[tuple[str, str]] = Counter()
        for recipients, head in list(self.received):
            subject = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.default)["Subject"]
            found = REF.search(subject)
            for address in recipients:
                counts[(found.group(0) if found else subject, address)] += 1
        return counts


@dataclass(frozen=True)
class Issuing:
    """How to run ``gongwen issue`` as a separate process against the test's database and mail server."""

    home: Path
    database_url: str
    smtp_host: str
    smtp_port: int

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "GONGWEN_HOME": str(self.home),
            "GONGWEN_DATABASE_URL": self.database_url,
            "GONGWEN_MAIL": "smtp",
            "GONGWEN_SMTP_HOST": self.smtp_host,
            "GONGWEN_SMTP_PORT": str(self.smtp_port),
            "GONGWEN_MAIL_FROM": "kfsfld@example.cn",
        }

    def command(self, *args: str) -> list[str]:
        return [str(GONGWEN), "--json", *args]

    def issue_command(self, document_id: int) -> list[str]:
        return self.command("issue", str(document_id), "-o", str(self.home / "issued" / str(document_id)))

    def start(self, document_id: int) -> subprocess.Popen:
        """``gongwen issue`` of one document, started."""
        return subprocess.Popen(
            self.issue_command(document_id), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def run(self, document_id: int) -> subprocess.CompletedProcess:
        """``gongwen issue`` of one document, to its end."""
        return self.cli(*self.issue_command(document_id)[2:])

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True, timeout=RUN_SECONDS)


_polling = threading.local()
_STATE = text("SELECT state FROM documents WHERE id = :id")


def state_of(db: Database, document_id: int) -> str:
    """The document's committed state; each thread polls on one connection of its own (autocommit)."""
    connection = getattr(_polling, "connection", None)
    if connection is None or connection.engine is not db.engine:
        connection = _polling.connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    return connection.execute(_STATE, {"id": document_id}).scalar_one()


def reached(state: str, target: str) -> bool:
    return ORDER.index(state) >= ORDER.index(target)


def wait_for_state(db: Database, document_id: int, target: str, process: subprocess.Popen) -> bool:
    """Poll until the document has reached ``target``; False if the process ended first."""
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        if reached(state_of(db, document_id), target):
            return True
        if process.poll() is not None:
            return reached(state_of(db, document_id), target)
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"公文 {document_id} 在 {RUN_SECONDS} 秒内未达到 {target}")


@dataclass(frozen=True)
class Steps:
    """Seconds each window lasted in one uninterrupted run: process start → 已登记 → 已印制 → 已归档."""

    seconds: dict[str, float]


def observed_run(db: Database, issuing: Issuing, document_id: int) -> Steps:
    """Issue a document without a kill, timing each window as the trials see it (by polling its state)."""
    started = time.monotonic()
    process = issuing.start(document_id)
    marks = {}
    for window, target in (("登记", "registered"), ("印制", "printed"), ("归档", "archived")):
        assert wait_for_state(db, document_id, target, process), process.communicate()
        marks[window] = time.monotonic()
    out, err = process.communicate(timeout=RUN_SECONDS)
    assert process.returncode == 0 and "Traceback" not in err, (out, err)
    ends = [started, marks["登记"], marks["印制"], marks["归档"]]
    return Steps({window: ends[i + 1] - ends[i] for i, window in enumerate(WINDOWS)})


def window_lengths(runs: list[Steps]) -> dict[str, float]:
    """The length of each window a delay is drawn over: its median across the measured runs."""
    return {window: statistics.median(run.seconds[window] for run in runs) for window in WINDOWS}


# ---- processes left behind ------------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, start time) of a live process, None if it has gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[1]), fields[19]) if fields[0] != "Z" else None


def descendants(pid: int) -> dict[int, str]:
    """Every live process below ``pid``, by pid, with its start time (so a reused pid is not mistaken for it)."""
    parents: dict[int, list[tuple[int, str]]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (found := _stat(int(entry.name))) is not None:
            parents.setdefault(found[0], []).append((int(entry.name), found[1]))
    below, todo = {}, [pid]
    while todo:
        for child, started in parents.get(todo.pop(), []):
            below[child] = started
            todo.append(child)
    return below


def alive(processes: dict[int, str]) -> dict[int, str]:
    """Those of ``processes`` still running (same pid and start time)."""
    return {pid: started for pid, started in processes.items() if (_stat(pid) or (0, None))[1] == started}


def temporary_folders(pid: int, processes: dict[int, str]) -> set[Path]:
    """The printing folders of process ``pid``: named after it, or on the command lines of ``processes`` (its
    LibreOffice: the profile, the printed .docx, the PDF output folder)."""
    folders = set(Path(tempfile.gettempdir()).glob(f"gongwen-*-{pid}-*"))
    for child in processes:
        try:
            words = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        for word in words:
            folders.update(Path(m) for m in re.findall(r"(/[^\s:=]*/gongwen-[a-z]+-[^/\s]+)", word))
    return folders


# ---- one trial -------------------------------------------------------------------------------------------


@dataclass
class Kill:
    """One trial: the window and delay drawn, and what the kill left behind."""

    document_id: int
    window: str
    delay: float
    state: str = ""
    counted: bool = True
    package_files: int = 0
    claims: int = 0
    survivors: dict[int, str] = field(default_factory=dict)
    folders: set[Path] = field(default_factory=set)
    reruns: list[subprocess.CompletedProcess] = field(default_factory=list)


@dataclass
class Trials:
    """The run's shared state: where documents are issued, and the kills so far."""

    db: Database
    issuing: Issuing
    store: LocalArchiveStore
    windows: dict[str, float]
    rng: random.Random
    kills: list[Kill] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def draw(self, document_id: int) -> Kill:
        with self.lock:
            window = self.rng.choice(list(WINDOWS))
            return Kill(document_id, window, self.rng.uniform(0, self.windows[window]))

    def package_files(self, document_id: int) -> int:
        """Versions in the store holding this document's printed .docx or PDF (found by their SHA-256)."""
        with self.db.engine.connect() as connection:
            query = text("SELECT sha256 FROM printed_files WHERE document_id = :id")
            digests = set(connection.execute(query, {"id": document_id}).scalars())
        return len([v for v in self.store.versions("") if v.metadata.get("sha256") in digests])

    def trial(self, document_id: int) -> Kill:
        """Start ``gongwen issue``, kill it at the drawn point, record what was left, issue again to the end."""
        kill = self.draw(document_id)
        process = self.issuing.start(document_id)
        opens = WINDOWS[kill.window]
        if opens is None or wait_for_state(self.db, document_id, opens, process):
            time.sleep(kill.delay)
        stopped = process.poll() is None
        if stopped:
            os.kill(process.pid, signal.SIGSTOP)
        kill.state = state_of(self.db, document_id)
        if not stopped or reached(kill.state, "archived"):
            kill.counted = False  # landed after 归档: let it finish, draw again elsewhere
            if stopped:
                os.kill(process.pid, signal.SIGCONT)
            out, err = process.communicate(timeout=RUN_SECONDS)
            assert process.returncode == 0 and "Traceback" not in err, (out, err)
            return self._keep(kill)
        children = descendants(process.pid)
        kill.folders = temporary_folders(process.pid, children)
        process.kill()
        process.communicate()
        kill.survivors = alive(children)
        kill.state = state_of(self.db, document_id)  # what was committed when it died
        kill.claims = self._claims(document_id)
        kill.package_files = self.package_files(document_id)
        kill.reruns.append(self.issuing.run(document_id))
        return self._keep(kill)

    def _claims(self, document_id: int) -> int:
        with self.db.engine.connect() as connection:
            query = text("SELECT count(*) FROM deliveries WHERE document_id = :id")
            return connection.execute(query, {"id": document_id}).scalar_one()

    def _keep(self, kill: Kill) -> Kill:
        with self.lock:
            self.kills.append(kill)
        return kill

    def counted(self) -> list[Kill]:
        with self.lock:
            return [k for k in self.kills if k.counted]


def distribution(kills: list[Kill]) -> dict[str, Counter]:
    """Kills per window drawn and per state the document was in when it died."""
    return {
        "window": Counter(k.window for k in kills),
        "state": Counter(STATE_LABELS[k.state] for k in kills),
        "package_files_left": Counter(k.package_files for k in kills if k.state == "printed"),
    }
