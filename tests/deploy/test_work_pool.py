"""The production shape, for real: the Prefect API server and its background services as two
processes on PostgreSQL, talking through Redis; ``prefect deploy --all`` of deploy/prefect.yaml;
two process workers on the "gongwen" pool running documents through 登记, 印制 (LibreOffice),
归档 and — started by the issued event, which only reaches the services process through
Redis — 核发. Commands, environments and healthchecks are read from deploy/compose.yaml
(tests/deploy/prefect_stack.py says what differs here). About a minute and a half.
"""

from __future__ import annotations

import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from uuid import UUID

import pytest

from actions import drafting
from flows.deployments import REMIND_CRON, TIMEZONE, deployments, issued_trigger
from gongwen.app import App
from gongwen.desk import Desk
from gongwen.server import free_port
from gongwen.settings import Settings
from models.identity import Credentials
from models.lifecycle import State
from storage import sign_in_sessions
from storage.directory_store import save_directory
from tests.deploy.deploy_files import ROOT, image_command, service
from tests.deploy.prefect_stack import (
    Process,
    Stack,
    gateway_env,
    gongwen_worker_env,
    missing,
    redis_client,
    run,
    running_stack,
    wait_for,
    worker_runs,
)
from tests.servers.requirements import need, unavailable
from tests.storage.helpers import DRAFTER, signed_document

pytestmark = pytest.mark.slow

DOCUMENTS = 4
WORKER_LIMIT = "2"  # flow runs at once per worker: four documents need both workers
RUN_TIMEOUT = 300.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    need(missing())
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


def client(stack: Stack):
    """A synchronous Prefect client for the stack's API, with its basic auth."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    class _Client:
        def __enter__(self):
            self._settings = temporary_settings({PREFECT_API_URL: stack.api_url, PREFECT_API_AUTH_STRING: stack.auth})
            self._settings.__enter__()
            self._client = get_client(sync_client=True)
            return self._client.__enter__()

        def __exit__(self, *exc):
            self._client.__exit__(*exc)
            self._settings.__exit__(*exc)

    return _Client()


def get(url: str, auth: str | None = None) -> tuple[int, str, str]:
    request = urllib.request.Request(url)
    if auth:
        import base64

        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("content-type", ""), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read().decode(errors="replace")


def test_server_on_postgresql_and_redis_serves_the_ui_and_the_api_behind_basic_auth(stack):
    status, kind, body = get(stack.ui_url + "/")
    assert status == 200 and kind.startswith("text/html") and "<html" in body.lower()
    assert get(f"{stack.api_url}/health")[:1] == (200,)
    assert get(f"{stack.api_url}/flows/count")[0] == 401  # GET is refused without the auth string …
    assert get(f"{stack.api_url}/admin/version", stack.auth)[0] == 200  # … and served with it
    assert stack.healthcheck("prefect-server", stack.server_env("prefect-server")) == 0
    assert stack.healthcheck("prefect-services", stack.server_env("prefect-services")) == 0
    for process in stack.processes:
        assert process.alive(), process.tail()


@pytest.fixture(scope="module")
def deployed(stack) -> dict[str, object]:
    """compose's prefect-deploy job, run from the repository root: the pool, then prefect deploy --all."""
    run(stack.command("prefect-deploy"), stack.client_env("deploy"))
    with client(stack) as prefect:
        return {f"{prefect.read_flow(d.flow_id).name}/{d.name}": d for d in prefect.read_deployments()}


def test_prefect_deploy_creates_every_deployment_with_its_schedule_and_trigger(stack, deployed):
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        expected = {f"{d.flow_name}/{d.name}": d for d in deployments()}
    assert set(deployed) == set(expected)
    for name, deployment in deployed.items():
        assert deployment.entrypoint == expected[name].entrypoint
        assert deployment.work_pool_name == "gongwen"
        assert deployment.description == expected[name].description
        assert deployment.pull_steps == [
            {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $GONGWEN_CODE_DIR }}"}}
        ]
        wanted = [(s.schedule.cron, s.schedule.timezone, s.active) for s in expected[name].schedules or []]
        assert [(s.schedule.cron, s.schedule.timezone, s.active) for s in deployment.schedules] == wanted
    remind = deployed["remind-unacknowledged/gongwen"]
    assert [(s.schedule.cron, s.schedule.timezone) for s in remind.schedules] == [(REMIND_CRON, TIMEZONE)]
    with client(stack) as prefect:
        automations = prefect.read_automations()
    trigger = issued_trigger()
    [automation] = automations
    assert automation.name == trigger.name and automation.enabled
    assert automation.trigger.expect == trigger.expect
    assert automation.trigger.match.model_dump() == trigger.match.model_dump()
    [action] = automation.actions
    assert action.deployment_id == deployed["distribute-document/gongwen"].id
    assert action.parameters == trigger.parameters


@pytest.fixture(scope="module")
def pool(stack, deployed, tmp_path_factory, kaifeng) -> Iterator[dict]:
    """gongwen's schema (compose's gongwen-migrate job), the 开封 directory, and two workers
    started with compose's worker command, sharing results, archive and outbox."""
    if shutil.which("soffice") is None and shutil.which("libreoffice") is None:
        unavailable("LibreOffice is not installed (印制 needs it): bash .ci/system-packages.sh")
    shared = tmp_path_factory.mktemp("shared")
    ports = [free_port(), free_port()]
    envs = [gongwen_worker_env(stack, shared, i, port) for i, port in enumerate(ports)]
    run(stack.command("gongwen-migrate"), envs[0])
    app = App(Settings(home=shared / "home", database_url=stack.databases.gongwen_url))
    with app.db.transaction() as session:
        save_directory(session, directory=kaifeng)
    command = stack.command("worker")
    command[command.index("--limit") + 1] = WORKER_LIMIT
    workers = [
        Process(f"worker-{i}", [*command, "--name", f"worker-{i}"], env, stack.log(f"worker-{i}")).start()
        for i, env in enumerate(envs)
    ]
    try:
        wait_polling(stack, workers)
        yield {"app": app, "workers": workers, "envs": envs, "ports": ports, "shared": shared}
    finally:
        for worker in workers:
            worker.stop()
        app.db.dispose()


def wait_polling(stack: Stack, workers: list[Process], timeout: float = 90) -> None:
    """Until every worker has polled the pool (so runs created now can go to either)."""
    deadline = time.monotonic() + timeout
    with client(stack) as prefect:
        while time.monotonic() < deadline:
            polling = {w.name for w in prefect.read_workers_for_work_pool("gongwen")}
            if polling >= {worker.name for worker in workers}:
                return
            for worker in workers:
                assert worker.alive(), worker.tail()
            time.sleep(0.5)
    raise AssertionError(f"workers not polling after {timeout:.0f} s")


def wait_final(stack: Stack, run_ids: list[UUID], pool: dict, timeout: float = RUN_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    with client(stack) as prefect:
        while time.monotonic() < deadline:
            runs = {run_id: prefect.read_flow_run(run_id) for run_id in run_ids}
            if all(r.state and r.state.is_final() for r in runs.values()):
                return runs
            for worker in pool["workers"]:
                assert worker.alive(), worker.tail()
            time.sleep(1)
    states = {str(k): v.state.name if v.state else None for k, v in runs.items()}
    logs = "\n".join(w.tail(2000) for w in pool["workers"])
    raise AssertionError(f"runs not finished after {timeout:.0f} s: {states}\n{logs}")


def test_two_workers_issue_documents_at_once_with_unique_gap_free_numbers(stack, deployed, pool, notice, pins):
    app = pool["app"]
    documents = [signed_document(app.db, notice, pins).id for _ in range(DOCUMENTS)]
    issue = deployed["issue-document/gongwen"]
    with client(stack) as prefect:
        run_ids = [
            prefect.create_flow_run_from_deployment(issue.id, parameters={"document_id": d}).id for d in documents
        ]
    runs = wait_final(stack, run_ids, pool)
    assert {r.state.name for r in runs.values()} == {"Completed"}, {str(k): r.state.message for k, r in runs.items()}

    with app.db.transaction() as session:
        from storage import documents as document_rows

        rows = [document_rows.get(session, document_id=d) for d in documents]
    serials = sorted(row.ref_serial for row in rows)
    assert serials == list(range(serials[0], serials[0] + DOCUMENTS)), serials  # unique and gap-free
    assert serials[0] == 3  # the directory's counter for 汴打假〔2022〕 stood at 2
    # both workers took runs: the flow-run processes of each wrote into the same archive
    taken = [worker_runs(worker.log) for worker in pool["workers"]]
    assert set().union(*taken) >= {str(r) for r in run_ids}
    assert all(taken), f"one worker ran everything: {taken}"
    archive = pool["shared"] / "home" / "archive"
    assert sum(1 for _ in archive.rglob("document.pdf")) == DOCUMENTS

    # the issued events went API → Redis → background services → distribute-document, on the pool
    distributed = wait_for_runs(stack, deployed["distribute-document/gongwen"].id, DOCUMENTS, pool)
    assert {r.state.name for r in distributed} == {"Completed"}
    with app.db.transaction() as session:
        states = {document_rows.get(session, document_id=d).state for d in documents}
    assert states == {State.DISPATCHED.value}
    assert any((pool["shared"] / "home" / "outbox").rglob("*.eml"))
    assert redis_client(stack.redis_dbs[0]).dbsize() > 0  # the messaging database was used
    for env, port in zip(pool["envs"], pool["ports"], strict=True):
        assert stack.healthcheck("worker", env, {"127.0.0.1:8080": f"127.0.0.1:{port}"}) == 0


def wait_for_runs(stack: Stack, deployment_id: UUID, count: int, pool: dict) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    deadline = time.monotonic() + RUN_TIMEOUT
    with client(stack) as prefect:
        while time.monotonic() < deadline:
            runs = prefect.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
            )
            if len(runs) >= count and all(r.state and r.state.is_final() for r in runs):
                return runs
            time.sleep(1)
    raise AssertionError(f"{count} runs of {deployment_id} not finished: {[(r.state.name) for r in runs]}")


@pytest.fixture(scope="module")
def gateway(stack, pool) -> Iterator[str]:
    """compose's gateway service, here: ``gongwen gateway`` in front of the Prefect server, with the
    workers' database and secret key; ready when its compose healthcheck passes. Its address."""
    port = free_port()
    env = gateway_env(stack, pool["shared"])
    replacements = {"0.0.0.0": "127.0.0.1", "8080": str(port), "http://prefect-server:4200": stack.ui_url}
    command = image_command(service("gateway", stack.secrets)["command"], replacements)
    process = Process("gateway", command, env, stack.log("gateway")).start()
    try:
        wait_for(f"http://127.0.0.1:{port}/gateway/health", process)
        assert stack.healthcheck("gateway", env, {"127.0.0.1:8080": f"127.0.0.1:{port}"}) == 0
        yield f"http://127.0.0.1:{port}"
    finally:
        process.stop()


def test_a_lifecycle_run_suspends_for_each_form_and_resumes_on_the_pool(stack, deployed, pool, gateway, notice, pins):
    """Each answer, given through the gateway by the person signed in, resumes the run from the top on
    whichever worker picks it up: the answers it replays come from the shared result storage, the
    gateway's stamps are verified with the key the workers share with it."""
    app = pool["app"]
    drafter = Credentials(DRAFTER, pins[DRAFTER])
    document = drafting.draft(app.db, spec=notice, by=drafter)
    drafting.submit(app.db, document_id=document.id, by=drafter)
    with client(stack) as prefect:
        run_id = str(
            prefect.create_flow_run_from_deployment(
                deployed["document-lifecycle/gongwen"].id, parameters={"document_id": document.id}
            ).id
        )
    server = Desk(stack.api_url, timeout=RUN_TIMEOUT, auth_string=stack.auth)
    for person in (*document.review, document.sign):
        with app.db.transaction() as session:
            token = sign_in_sessions.start(session, name=person, kind=sign_in_sessions.COMMAND_LINE)
        desk = Desk(f"{gateway}/api", timeout=RUN_TIMEOUT, api_key=token)
        desk.wait(run_id)
        form = desk.form(run_id)
        desk.answer(run_id, {"verdict": "同意", "opinion": "同意"})
        desk.wait(run_id, after_key=form.key)
    ref = server.finished(run_id)
    assert ref.startswith("汴打假〔2022〕")
    taken = [worker_runs(worker.log) for worker in pool["workers"]]
    assert any(run_id in runs for runs in taken)


def test_workers_reach_the_api_only_through_the_auth_string(stack):
    """A worker without PREFECT_API_AUTH_STRING is refused (the API is not open on the network)."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=5):
        pass
    assert get(f"{stack.api_url}/work_pools/gongwen")[0] == 401
    assert get(f"{stack.api_url}/work_pools/gongwen", stack.auth)[0] == 200
