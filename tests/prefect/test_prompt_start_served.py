"""Served runs start when the server schedules them, not at the runner's poll (flows.run_processes.PromptStart).

The server here polls for scheduled runs once an hour (PREFECT_RUNNER_POLL_FREQUENCY=3600), after its
first look at start: a new run (送审), every run resumed by a form's answer (核稿, 会签, 签发) and the
issued event's 核发 run can only start within the CLI's wait because the server announced them.
"""

from __future__ import annotations

import pytest

from flows.served_names import DISTRIBUTE
from tests.prefect.documents import approve_all, document, drafted_and_submitted
from tests.prefect.served import Served


@pytest.fixture
def hourly(tmp_path, kaifeng):
    """A served home whose runner polls the server once an hour."""
    server = Served(
        tmp_path / "home", extra_env={"PREFECT_RUNNER_POLL_FREQUENCY": "3600", "GONGWEN_WAIT_SECONDS": "60"}
    )
    server.home.mkdir()
    server.load(kaifeng)
    server.start()
    yield server
    server.stop()


def test_runs_created_and_resumed_start_without_the_runners_poll(hourly, tmp_path):
    doc, run_id = drafted_and_submitted(hourly, tmp_path)  # the lifecycle run started: its first form is up
    desk = hourly.desk(timeout=60)
    assert desk.state(run_id).is_paused()
    approve_all(hourly, doc, ["王强", "赵丽"])  # each answer resumed the run, each resumed run went on
    ref = desk.finished(run_id)
    assert document(hourly, doc).ref == ref
    assert desk.finished(desk.triggered_run(DISTRIBUTE, {"document_id": doc})) == {"sent": 32}
