"""The persisted 发文办理 steps: each result keyed by the flow run, the step and the document, so a
step run again in the same flow run returns its result without doing the side effect twice."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from actions.distribution import MailOptions, send_with_retries
from delivery.retry import RetryPolicy
from flows import steps
from flows.runtime import provide
from models.errors import DeliveryDeferred, ServiceUnavailable
from storage import registration
from tests.flows.dispatch_helpers import SENDER, Refusing, bare_message


@pytest.fixture(scope="module")
def prefect() -> Iterator[None]:
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60), temporary_settings({PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _context(task, flow_run_id, task_run_id=None):
    return SimpleNamespace(task=task, task_run=SimpleNamespace(flow_run_id=flow_run_id, id=task_run_id or uuid.uuid4()))


def test_the_key_is_the_flow_run_the_step_and_the_document():
    run, other_run = uuid.uuid4(), uuid.uuid4()
    key = steps.step_key(_context(steps.register, run), {"document_id": 7})

    assert key == f"{run}-register-7"
    assert steps.step_key(_context(steps.register, run), {"document_id": 7}) == key
    assert steps.step_key(_context(steps.register, run), {"document_id": 8}) != key
    assert steps.step_key(_context(steps.register, other_run), {"document_id": 7}) != key
    assert steps.step_key(_context(steps.archive, run), {"document_id": 7}) != key
    announced = steps.step_key(_context(steps.announce_issued, run), {"document_id": 7, "ref": "开发〔2024〕1号"})
    assert announced == f"{run}-announce_issued-7"


def test_outside_a_flow_run_the_task_run_keys_the_result():
    task_run = uuid.uuid4()
    assert steps.step_key(_context(steps.register, None, task_run), {"document_id": 7}) == f"{task_run}-register-7"


def test_every_step_is_persisted_under_its_key():
    for step in (
        steps.register,
        steps.print_files,
        steps.archive,
        steps.announce_issued,
        steps.issue,
        steps.distribute,
    ):
        assert step.persist_result and step.cache_key_fn is steps.step_key


@pytest.fixture
def numbers(monkeypatch) -> list[int]:
    """登记 replaced by one that takes a new number on every call: the documents it was called for."""
    calls = []

    def register(db, *, document_id):
        calls.append(document_id)
        return f"开发〔2024〕{len(calls)}号"

    monkeypatch.setattr(registration, "register", register)
    provide(lambda: SimpleNamespace(db=None))
    yield calls
    provide(None)


def test_a_step_run_again_in_the_same_flow_run_returns_the_persisted_result(prefect, numbers):
    from prefect import flow

    @flow(persist_result=True)
    def twice(document_ids: list[int]) -> list[str]:
        return [steps.register(document_id) for document_id in document_ids]

    first = twice([7, 8, 7, 8])
    assert first == ["开发〔2024〕1号", "开发〔2024〕2号", "开发〔2024〕1号", "开发〔2024〕2号"]
    assert numbers == [7, 8]

    assert twice([7]) == ["开发〔2024〕3号"]  # another flow run registers again (the domain step is idempotent)
    assert numbers == [7, 8, 7]


def test_a_batch_document_run_again_in_the_same_flow_run_returns_its_persisted_result(prefect, monkeypatch):
    """issue (a batch's 发文办理 of one document) run again in the same flow run: the 发文字号 and 档号 back, no
    step done twice; another flow run does the steps again (each idempotent by itself)."""
    from prefect import flow

    done = []

    def step(name, result):
        return lambda document_id, *rest: done.append((name, document_id)) or result

    monkeypatch.setattr(steps.register, "fn", step("登记", "开发〔2024〕1号"))
    monkeypatch.setattr(steps.print_files, "fn", step("印制", 1))
    monkeypatch.setattr(steps.archive, "fn", step("归档", "A-1"))
    monkeypatch.setattr(steps.announce_issued, "fn", step("事件", None))

    @flow(persist_result=True)
    def batch(document_ids: list[int]) -> list[tuple[str, str]]:
        return [steps.issue(document_id) for document_id in document_ids]

    assert batch([7, 7]) == [("开发〔2024〕1号", "A-1")] * 2
    assert done == [("登记", 7), ("印制", 7), ("归档", 7), ("事件", 7)]
    batch([7])
    assert len(done) == 8


def test_核发_is_not_retried_by_prefect_on_top_of_the_tries_per_message(prefect, monkeypatch):
    """A mail server down for the whole run: the message is tried as the retry policy says (3 times), then
    the run stops; the task does not run 核发 again (before the single retry layer: 3 × 4 = 12 tries)."""

    channel, runs = Refusing(DeliveryDeferred("421 服务暂不可用")), []

    def dispatch(db, channel, *, document_id, options, **stores):  # one message, then the stop dispatch raises
        runs.append(document_id)
        outcome = send_with_retries(channel, bare_message(), options)
        raise ServiceUnavailable(f"{outcome.error.message}；请在邮件服务器恢复后执行 gongwen distribute {document_id}")

    with pytest.raises(ServiceUnavailable, match="gongwen distribute 7"):
        _distribute_in_a_flow(monkeypatch, dispatch, channel, 7)
    assert (runs, channel.tries) == ([7], 3)


def _distribute_in_a_flow(monkeypatch, dispatch, channel, document_id: int):
    """Run the 核发 step in a flow of its own, with ``dispatch`` in place of the real one."""
    from prefect import flow

    monkeypatch.setattr(steps, "dispatch", dispatch)
    mail = MailOptions(sender=SENDER, retry=RetryPolicy(attempts=3, backoff=0), sleep=lambda seconds: None)
    provide(lambda: SimpleNamespace(db=None, archive_store=None, open_channel=lambda: channel, mail=mail))

    @flow
    def distribute_once(document_id: int):
        return steps.distribute(document_id)

    try:
        return distribute_once(document_id)
    finally:
        provide(None)


def test_核发_is_retried_when_the_database_is_down(prefect, monkeypatch):
    """A database outage (not the mail server) retries the 核发 task, as it does the other 发文办理 steps."""

    runs = []

    def dispatch(db, channel, *, document_id, options, **stores):  # the database answers the second time
        runs.append(document_id)
        if len(runs) == 1:
            raise ServiceUnavailable("数据库无法连接或连接中断（测试），请在数据库恢复后重试", "database")
        return "已核发"

    assert _distribute_in_a_flow(monkeypatch, dispatch, None, 7) == "已核发"
    assert runs == [7, 7]
