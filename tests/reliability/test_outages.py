"""Outages: the archive store, the mail server and the database each stopped in the middle of a batch of
50 issuances, then started again. Afterwards every document is 已核发 and nothing is duplicated.

The batch is what an office runs on its Prefect server: 50 已签发 notices (the seed notice to the nine
counties and the province, 10 recipients each) given to one ``issue-documents`` run (登记, 印制 with
LibreOffice's PDF/A, 归档 into the S3 bucket), then a ``distribute-document`` run for each (核发 by
SMTP; the issued event starts it on a served server, here the test starts them, four at a time).
Flows run in this process against a temporary Prefect server; the real servers are Ceph RGW (S3 with
object lock), aiosmtpd on a socket, and a private PostgreSQL that is crashed (``pg_ctl stop -m
immediate``).

Each outage starts once the batch is really in flight (after the k-th package archived, k random in
10..40, or as many messages as k documents have), lasts until the retries of the steps it hits are
exhausted, and after it the office does what the messages say: the same batch run again, the
registrar settles any uncertain delivery from the mail server's log, ``gongwen distribute DOC``.
Checked on the real servers and the database: one 发文字号 each, serials gap-free after the
directory's last one, one package each, 件号 gap-free, ``gongwen audit verify --all`` passing
(四性检测, no stray versions in the bucket), every delivery 已发送, and one message per recipient
per document as the SMTP server received them.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import pytest
from sqlmodel import func, select

from actions.distribution import SETTLE_GRACE, MailOptions, settle
from delivery.retry import RetryPolicy
from delivery.smtp import SmtpChannel
from doc_templates import PersistentConverter
from flows.lifecycle import issue_documents
from flows.receipts import distribute_document
from flows.runtime import Services, provide
from models.distribution import ChasePolicy, DeliveryStatus
from models.lifecycle import State
from models.tables import ArchiveRecord, Delivery, Document
from storage.archive.s3 import S3ArchiveStore
from storage.database import Database
from storage.deliveries import Settlement
from storage.migrations import upgrade
from tests.gongwen.cli_runner import run_json
from tests.reliability.outage_helpers import Outage
from tests.servers.postgres import PrivatePostgres, running_postgres
from tests.servers.requirements import need
from tests.servers.rgw import RgwServer, rgw_missing, running_rgw
from tests.servers.smtp import SmtpServer
from tests.storage.helpers import load, signed_document

pytestmark = pytest.mark.reliability

BATCH = 50
SENDER = "kfsfld@kaifeng.example.cn"
#: Retries of the 归档 task wait 2 + 10 + 30 s, 核发 tries each message 3 times (delivery.retry, no task
#: retries): an outage lasts until one of them has given up.
GIVE_UP_TIMEOUT = 180.0
#: The batch's notice: the seed notice to the nine counties' groups (主送) and the province's office (抄报).
TO, CC_REPORT = ["各县（区）打击侵权假冒工作领导小组"], ["省打击侵权假冒工作领导小组办公室"]
RECIPIENTS = 10
#: distribute-document runs at once, as the issued events start them on a served deployment.
DISTRIBUTING = 4
REGISTRAR = "李红梅"  # holds the registrar role: settles an uncertain delivery


@pytest.fixture(scope="module")
def prefect() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


@pytest.fixture(scope="module")
def rgw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RgwServer]:
    need(rgw_missing())
    with running_rgw(tmp_path_factory.mktemp("rgw")) as server:
        yield server


@pytest.fixture(scope="module")
def converter() -> Iterator[PersistentConverter]:
    with PersistentConverter() as kept_open:
        yield kept_open


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    with running_postgres() as server:
        yield server


@dataclass
class Office:
    """One office's installation for a test: its database, bucket and mail server, and the batch."""

    db: Database
    smtp: SmtpServer
    ids: list[int]
    rgw: RgwServer
    postgres: PrivatePostgres
    seeded_serial: int  # the directory's last used 发文顺序号 of the year
    pins: dict[str, str]

    def count(self, table) -> int:
        with self.db.transaction() as session:
            return session.exec(select(func.count()).select_from(table)).one()

    def states(self) -> Counter[str]:
        with self.db.transaction() as session:
            return Counter(session.exec(select(Document.state)).all())

    def refs(self) -> list[str]:
        with self.db.transaction() as session:
            return list(session.exec(select(Document.ref).where(Document.ref.is_not(None))))

    def unfinished(self) -> list[int]:
        with self.db.transaction() as session:
            query = select(Document.id).where(Document.state != State.DISPATCHED.value).order_by(Document.id)
            return list(session.exec(query))


@pytest.fixture
def office(
    prefect, rgw, converter, postgres, smtp, directory_data, kaifeng, notice, pins, monkeypatch
) -> Iterator[Office]:
    """Services for flow runs in this process and the same installation for the CLI (GONGWEN_*)."""
    db = Database.from_url(postgres.url)
    upgrade(db.engine)
    bucket = f"outage-{uuid.uuid4().hex[:12]}"
    store = S3ArchiveStore.connect(rgw.endpoint, rgw.access_key, rgw.secret_key, bucket=bucket, secure=False)
    store.ensure_bucket()
    services = Services(
        db=db,
        archive_store=store,
        store_name="s3",
        lock_mode="COMPLIANCE",
        open_channel=lambda: SmtpChannel(smtp.host, smtp.port, "none", None, None, SENDER, timeout=10),
        mail=MailOptions(sender=SENDER, retry=RetryPolicy(backoff=0.2)),
        chase=ChasePolicy(remind_after=dt.timedelta(days=3), escalate_after=2),
        converter=converter,
    )
    provide(lambda: services)
    environment = {
        "GONGWEN_DATABASE_URL": postgres.url,
        "GONGWEN_ARCHIVE": "s3",
        "GONGWEN_S3_ENDPOINT": rgw.endpoint,
        "GONGWEN_S3_ACCESS_KEY": rgw.access_key,
        "GONGWEN_S3_SECRET_KEY": rgw.secret_key,
        "GONGWEN_S3_BUCKET": bucket,
        "GONGWEN_S3_SECURE": "false",
        "GONGWEN_MAIL": "smtp",
        "GONGWEN_SMTP_HOST": smtp.host,
        "GONGWEN_SMTP_PORT": str(smtp.port),
        "GONGWEN_MAIL_FROM": SENDER,
        "GONGWEN_MAIL_BACKOFF": "0.2",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    load(db, kaifeng)
    spec = notice.model_copy(update={"to": TO, "cc_report": CC_REPORT, "cc": []})
    ids = [signed_document(db, spec, pins).id for _ in range(BATCH)]
    [seeded] = [c["last"] for c in directory_data["counters"] if c["year"] == notice.date.year]
    yield Office(db, smtp, ids, rgw, postgres, seeded, pins)
    provide(None)
    db.dispose()


def in_flight(per_document: int = 1) -> int:
    """Where an outage starts: after the k-th package, k random in 10..40, or as many messages as that
    many documents have (printed, to rerun a failure with the same k)."""
    k = random.randint(10 * per_document, 40 * per_document)
    print(f"outage after k={k}", file=sys.stderr)  # (stdout is the CLI's JSON)
    return k


def failed_task_runs(name: str | None) -> int:
    """Runs of the task ``name`` (of any task: None) that ended Failed (their retries exhausted), on the
    Prefect server."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        TaskRunFilter,
        TaskRunFilterName,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    failed = TaskRunFilter(
        name=TaskRunFilterName(like_=f"{name}-") if name else None,  # a run's name is the task's and a suffix
        state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.FAILED])),
    )
    with get_client(sync_client=True) as client:
        return len(client.read_task_runs(task_run_filter=failed))


def gives_up(name: str | None) -> Callable[[], bool]:
    """True once one more run of the task ``name`` (of any task: None) has failed than when this was made."""
    before = failed_task_runs(name)
    return lambda: failed_task_runs(name) > before


def attempt(flow: Callable[..., object], *args: object) -> BaseException | None:
    """Run a flow as the office would; what stopped it, if anything (an outage may)."""
    try:
        flow(*args)
    except Exception as error:  # noqa: BLE001 - the outage's failure, reported by the caller
        return error
    return None


def distribute_each(office: Office) -> dict[int, BaseException]:
    """A distribute-document run for each document of the batch, as the issued events start them:
    several at once (DISTRIBUTING), as a served deployment runs them; the runs that failed."""
    with ThreadPoolExecutor(DISTRIBUTING) as pool:
        outcomes = dict(zip(office.ids, pool.map(partial(attempt, distribute_document), office.ids), strict=True))
    return {document_id: error for document_id, error in outcomes.items() if error is not None}


def received(office: Office) -> Counter[tuple[str, str]]:
    """The messages the SMTP server took, by (发文字号 in the subject, envelope recipient)."""
    refs = office.refs()
    taken = Counter()
    for recipients, data in office.smtp.recorder.received:
        subject = str(email.message_from_bytes(data, policy=email.policy.default)["Subject"])
        ref = next(ref for ref in refs if ref in subject)
        taken.update((ref, address) for address in recipients)
    return taken


def settle_uncertain(office: Office) -> int:
    """The registrar, 30 minutes on (``settle`` refuses younger claims), reads the mail server's log for
    each uncertain delivery: 已发送 if the server took it, else 待发送 for the next ``distribute``."""
    later = dt.datetime.now(dt.UTC) + SETTLE_GRACE + dt.timedelta(minutes=1)
    with office.db.transaction() as session:
        query = select(Delivery, Document.ref).join(Document, Document.id == Delivery.document_id)
        pending = session.exec(query.where(Delivery.status == DeliveryStatus.PENDING.value)).all()
        uncertain = [(delivery, ref) for delivery, ref in pending if delivery.claimed_at is not None]
    taken = received(office)
    for delivery, ref in uncertain:
        arrived = taken[(ref, delivery.address)] > 0
        settlement = Settlement(delivery.document_id, delivery.recipient, arrived, REGISTRAR, office.pins[REGISTRAR])
        settle(office.db, settlement, now=later)
    return len(uncertain)


def distribute_again(office: Office, capsys, home) -> tuple[int, int]:
    """What the failure message tells staff: uncertain deliveries settled, then ``gongwen distribute DOC``
    for each document not 已核发; (how many settled, how many documents distributed again)."""
    settled = settle_uncertain(office)
    unfinished = office.unfinished()
    for document_id in unfinished:
        code, result = run_json(capsys, home, "distribute", str(document_id))
        assert code == 0, result
    return settled, len(unfinished)


def assert_nothing_lost_or_doubled(office: Office, capsys, home) -> dict[str, object]:
    """已核发, numbered once each without gap after the directory's last serial, one package each that
    verifies, one message per recipient."""
    first_serial = office.seeded_serial + 1
    with office.db.transaction() as session:
        documents = list(session.exec(select(Document).where(Document.id.in_(office.ids))))
        records = list(session.exec(select(ArchiveRecord)))
        deliveries = list(session.exec(select(Delivery)))
    assert {d.state for d in documents} == {State.DISPATCHED.value}, office.states()
    serials = sorted(d.ref_serial for d in documents)
    assert serials == list(range(first_serial, first_serial + BATCH)), serials
    assert len({d.ref for d in documents}) == BATCH
    assert sorted(r.document_id for r in records) == sorted(office.ids)
    assert sorted(r.item_no for r in records) == list(range(1, BATCH + 1))
    assert {d.status for d in deliveries} == {DeliveryStatus.SENT.value}
    refs = {d.id: d.ref for d in documents}
    expected = Counter((refs[d.document_id], d.address) for d in deliveries)
    taken = received(office)
    assert taken == expected, "messages missing or sent twice"
    assert max(taken.values()) == 1
    code, verified = run_json(capsys, home, "audit", "verify", "--all")
    failed = [c for c in verified.get("checks", []) if not c["ok"]]
    assert code == 0 and verified["ok"], failed or verified
    return {"documents": len(documents), "messages": sum(taken.values()), "packages": len(records)}


def test_archive_store_outage(office: Office, capsys, tmp_path) -> None:
    """Ceph RGW's gateway stopped after the k-th package: the 发文办理 tasks in flight (each document's steps)
    retry at their 归档, then give up; the same batch run again archives the rest, adding no version to any
    package."""
    k, started = in_flight(), time.monotonic()
    with Outage(
        "s3",
        when=lambda: office.count(ArchiveRecord) >= k,
        stop=office.rgw.stop_gateway,
        start=office.rgw.start_gateway,
        recovered_after=gives_up("发文办理"),
        timeout=GIVE_UP_TIMEOUT,
    ) as outage:
        first = attempt(issue_documents, office.ids)
    assert outage.error is None, outage.error
    assert first is not None, "the batch went through an archive outage without noticing"
    archived_first = office.count(ArchiveRecord)
    assert attempt(issue_documents, office.ids) is None
    assert distribute_each(office) == {}
    figures = assert_nothing_lost_or_doubled(office, capsys, tmp_path)
    print(
        f"S3 outage: k={k}, down {outage.down_seconds:.0f} s, {archived_first} archived by the first run; "
        f"{figures}; {time.monotonic() - started:.0f} s"
    )


def test_mail_server_outage(office: Office, capsys, tmp_path) -> None:
    """The SMTP server stopped after the k-th message for 45 s at least, until a 核发 has given up (its message
    tried 3 times; the runs started meanwhile stop too); the other documents' runs go on once it is back, and
    ``gongwen distribute`` completes the ones that stopped."""
    assert attempt(issue_documents, office.ids) is None
    k, started = in_flight(RECIPIENTS), time.monotonic()
    long_enough, gave_up = held_for(45), gives_up("核发")
    with Outage(
        "smtp",
        when=lambda: len(office.smtp.recorder.received) >= k,
        stop=office.smtp.stop,
        start=office.smtp.start,
        recovered_after=lambda: long_enough() and gave_up(),
        timeout=GIVE_UP_TIMEOUT,
    ) as outage:
        stopped = distribute_each(office)
    assert outage.error is None, outage.error
    assert stopped, "the batch went through a mail outage without noticing"
    settled, again = distribute_again(office, capsys, tmp_path)
    figures = assert_nothing_lost_or_doubled(office, capsys, tmp_path)
    print(
        f"SMTP outage: k={k}, down {outage.down_seconds:.0f} s, {len(stopped)} distribute runs failed, "
        f"{settled} uncertain deliveries settled, {again} completed by gongwen distribute; {figures}; "
        f"{time.monotonic() - started:.0f} s"
    )


def database_crash(office: Office, when: Callable[[], bool], recovered_after: Callable[[], bool]) -> Outage:
    return Outage(
        "database",
        when=when,
        stop=office.postgres.crash,
        start=office.postgres.start,
        recovered_after=recovered_after,
        timeout=GIVE_UP_TIMEOUT,
    )


def held_for(seconds: float) -> Callable[[], bool]:
    """True once ``seconds`` have passed since it was first asked."""
    since: list[float] = []

    def passed() -> bool:
        since.append(time.monotonic())
        return since[-1] - since[0] >= seconds

    return passed


def test_database_crash(office: Office, capsys, tmp_path) -> None:
    """PostgreSQL crashed (immediate stop) after the k-th package until a step gives up, and again after the
    m-th message for 45 s (the 核发 runs that need it meanwhile stop; those recording wait): once it is back, the
    same process runs the batch again, and ``gongwen distribute`` completes what stopped."""
    k, started = in_flight(), time.monotonic()
    with database_crash(office, lambda: office.count(ArchiveRecord) >= k, gives_up(None)) as issuing:
        first = attempt(issue_documents, office.ids)
    assert issuing.error is None, issuing.error
    assert first is not None, "the batch went through a database outage without noticing"
    assert attempt(issue_documents, office.ids) is None
    m = in_flight(RECIPIENTS)
    with database_crash(office, lambda: len(office.smtp.recorder.received) >= m, held_for(45)) as dispatching:
        stopped = distribute_each(office)
    assert dispatching.error is None, dispatching.error
    settled, again = distribute_again(office, capsys, tmp_path)
    figures = assert_nothing_lost_or_doubled(office, capsys, tmp_path)
    print(
        f"database crashes: k={k}, m={m}; during issuing down {issuing.down_seconds:.0f} s, during 核发 down "
        f"{dispatching.down_seconds:.0f} s, {len(stopped)} distribute runs failed, {settled} uncertain "
        f"deliveries settled, {again} completed by gongwen distribute; {figures}; "
        f"{time.monotonic() - started:.0f} s"
    )
