"""``gongwen server`` on PostgreSQL, the scheduled 催办 and 审计链锚点 deployments run by hand."""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import select

from actions import drafting, issuing
from models.identity import Credentials
from models.refno import ReferenceNumber
from models.tables import AuditEvent, AuditHead
from storage import documents
from tests.conftest import PG_SERVER, needs_postgres
from tests.doc_templates.conftest import SOFFICE_MISSING
from tests.prefect.served import Served
from tests.servers.requirements import needs
from tests.storage.helpers import signed_document


@needs_postgres
def test_the_prefect_server_keeps_its_state_in_postgresql_when_asked(tmp_path, kaifeng):
    name = f"gw_prefect_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.replace("postgresql+psycopg", "postgresql+asyncpg").rsplit("/", 1)[0] + f"/{name}"
    served = Served(tmp_path / "home", extra_env={"PREFECT_API_DATABASE_CONNECTION_URL": url})
    served.home.mkdir()
    served.load(kaifeng)
    try:
        served.start()
        deployments = served.desk()._call(lambda client: client.read_deployments())
        assert len(deployments) >= 8
        assert not (served.home / "prefect" / "prefect.db").exists()  # nothing in SQLite
        with create_engine(PG_SERVER.rsplit("/", 1)[0] + f"/{name}").connect() as connection:
            stored = connection.execute(text("SELECT count(*) FROM deployment")).scalar_one()
        assert stored == len(deployments)
    finally:
        served.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _schedule(desk, name: str) -> tuple[str, str, bool]:
    """The one schedule of a served deployment: cron, time zone, active."""
    (schedule,) = desk._call(lambda client: client.read_deployment_by_name(name)).schedules
    return schedule.schedule.cron, schedule.schedule.timezone, schedule.active


def test_remind_unacknowledged_runs_on_its_schedule_and_shows_the_overdue(served):
    desk = served.desk()
    assert _schedule(desk, "remind-unacknowledged/gongwen") == ("0 9 * * *", "Asia/Shanghai", True)
    result = desk.finished(desk.run_deployment("remind-unacknowledged/gongwen", {}))
    assert set(result) == {"reminded", "escalated", "overdue"}
    keys = {a.key for a in desk._call(lambda client: client.read_artifacts())}
    assert "overdue-deliveries" in keys


def test_anchor_audit_log_runs_each_night_and_puts_the_chain_head_into_the_archive(served, notice, pins):
    desk = served.desk()
    assert _schedule(desk, "anchor-audit-log/gongwen") == ("50 23 * * *", "Asia/Shanghai", True)
    drafting.draft(served.app.db, spec=notice, by=Credentials("郭佳佳", pins["郭佳佳"]))  # an entry to anchor
    result = desk.finished(desk.run_deployment("anchor-audit-log/gongwen", {}))
    assert result["anchored"] is True
    with served.app.db.transaction() as session:
        assert session.exec(select(AuditHead.last_id)).one() == result["last_id"]  # nothing happened since
        entry = session.get(AuditEvent, result["last_id"])
    anchors = served.app.archive_store.versions("audit-anchors/")
    [anchor] = [version for version in anchors if version.key == result["key"]]
    assert anchor.lock.legal_hold and json.loads(served.app.archive_store.get(anchor.key))["last_hash"] == entry.hash


def test_a_batch_of_signed_documents_issued_by_one_run(served, notice, pins):
    db = served.app.db
    ids = []
    for _ in range(3):
        ids.append(signed_document(db, notice, pins).id)
    desk = served.desk()
    issued = desk.finished(desk.run_deployment("issue-documents/gongwen", {"document_ids": ids}))
    numbers = sorted(ReferenceNumber.parse(ref).serial for ref in issued.values())
    assert sorted(int(key) for key in issued) == ids
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    with db.transaction() as session:
        assert {documents.get(session, document_id=i).state for i in ids} <= {"archived", "dispatched"}
    keys = {a.key for a in desk._call(lambda client: client.read_artifacts())}
    assert "issued-batch" in keys


def test_served_runs_are_forks_of_the_preloaded_forkserver(served):
    """The run's CPU time is reaped by the forkserver: the run was its child, not a fresh interpreter
    started by the runner (``python -m prefect.engine``)."""
    forkserver = _child_running(served.process.pid, "multiprocessing.forkserver")
    before = _reaped_cpu_ticks(forkserver)
    desk = served.desk()
    desk.finished(desk.run_deployment("remind-unacknowledged/gongwen", {}))
    deadline = time.monotonic() + 60
    while _reaped_cpu_ticks(forkserver) == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _reaped_cpu_ticks(forkserver) > before


def _child_running(parent: int, command: str) -> int:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if ppid == parent and command in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    return int(entry.name)
            except (OSError, ValueError):
                continue
    raise AssertionError(f"no child of {parent} runs {command}")


def _reaped_cpu_ticks(pid: int) -> int:
    """CPU time of the process's children it has waited for (cutime + cstime, /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[13]) + int(fields[14])


@needs(SOFFICE_MISSING)
def test_served_flow_runs_print_through_the_servers_converter_service(served, notice, pins):
    """gongwen server runs the PDF conversion service (its URL in its output) and its flow runs print
    through it: the service counts the 印制 of the document issued."""
    [url] = re.findall(r"PDF 转换服务：(http://\S+)", (served.home / "server.log").read_text())
    before = _service_counts(url)["converted"]
    document_id = signed_document(served.app.db, notice, pins).id
    desk = served.desk()
    desk.finished(desk.run_deployment("issue-document/gongwen", {"document_id": document_id}))
    printed = issuing.printed(served.app.db, document_id=document_id)
    assert printed["document.pdf"].pages == 7 and printed["document.pdf"].content.startswith(b"%PDF")
    assert _service_counts(url)["converted"] == before + 1


def _service_counts(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
        return json.loads(response.read())
