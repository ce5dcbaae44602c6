"""The Prefect tasks of 发文办理: each one step or one side effect, persisted and idempotent.

Every task calls a domain step that is idempotent by itself — 登记 returns the
number already taken, 印制 leaves a printed document alone, 归档 finds the package
already written, 核发 never sends a recipient a second copy — and persists its
result, so a flow run that resumes, retries or starts again after a crash gets
the earlier result back instead of doing the work twice: a result is keyed by
the flow run, the step and the document (``step_key``). Only transient IO
errors (an archive server or the database that is down: ServiceUnavailable)
are retried; a domain error fails at once. 核发 is not retried here: its one retry layer is
per message (delivery.retry), and a task retry on top of it would multiply the tries.

A batch (issue-documents) runs each document's 发文办理 as one task, ``issue``: the same steps in
the same order, one persisted result per document. A task run costs the flow run's process and the
Prefect server far more than these steps' own work once the PDF is a stand-in, and four per document made
the batch about twice as slow as the steps without Prefect. Run again in the same flow run, a document whose
``issue`` completed gets its result back; one that had not completed runs its steps again, and since each
step is idempotent by itself that takes no second number and writes no second package. The issued event
is emitted last, after the result it announces exists, as ``announce_issued`` does: a crash between the
event and the persisted result may emit it again, as it may there.
"""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.context import TaskRunContext
from prefect.events import emit_event

from actions import issuing
from actions.distribution import DispatchReport, dispatch
from delivery.retry import STEP_RETRY_DELAYS
from flows.runtime import services
from models.errors import DeliveryDeferred, ServiceUnavailable
from storage import printing

ISSUED_EVENT = "gongwen.document.issued"


def transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition: only an unreachable archive or mail server or database is worth another try."""
    return isinstance(state.result(raise_on_failure=False), ServiceUnavailable)


def store_outage(task: Any, task_run: Any, state: Any) -> bool:
    """核发's retry condition: the database or the archive store down (核发 reads the archived files), never
    the mail server, whose tries are per message."""
    error = state.result(raise_on_failure=False)
    outage = isinstance(error, ServiceUnavailable) and not isinstance(error, DeliveryDeferred)
    return outage and error.field in ("database", "archive")


def step_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """The key of a step's persisted result: the flow run (the task run outside one), the step and
    the document. A step run again for the same document in the same flow run (a resume, a retry, a
    restart after a crash) gets this result back and does not do its side effect again; another flow
    run or another document does the step. Nothing is hashed and no source is read: the inputs besides
    the document (发出已印发事件's 发文字号) follow from it, and a step's code changing between a crash and
    the resume must not make the step run twice."""
    run = context.task_run.flow_run_id or context.task_run.id
    return f"{run}-{context.task.fn.__name__}-{parameters['document_id']}"


_PERSISTED = {"persist_result": True, "cache_key_fn": step_key}
_STEP_RETRIES = {"retries": len(STEP_RETRY_DELAYS), "retry_delay_seconds": list(STEP_RETRY_DELAYS)}
_RETRIED = {**_PERSISTED, **_STEP_RETRIES, "retry_condition_fn": transient}


@task(name="登记", **_RETRIED)
def register(document_id: int) -> str:
    """登记: the 发文字号, taken once."""
    return str(issuing.register(services().db, document_id=document_id))


@task(name="印制", **_RETRIED)
def print_files(document_id: int) -> int | None:
    """印制: the .docx and the PDF/A; the PDF's page count."""
    s = services()
    issuing.print_once(s.db, document_id=document_id, converter=s.converter)
    with s.db.transaction() as session:
        return printing.pdf_pages(session, document_id=document_id)


@task(name="归档", **_RETRIED)
def archive(document_id: int) -> str:
    """归档: the package written once into the archive store, locked; its 档号."""
    s = services()
    record = issuing.archive(
        s.db, s.archive_store, document_id=document_id, store_name=s.store_name, lock_mode=s.lock_mode
    )
    return record.archive_code


@task(name="发出已印发事件", **_PERSISTED)
def announce_issued(document_id: int, ref: str) -> None:
    """Emit ``gongwen.document.issued``: distribute-document starts on it."""
    emit_event(
        event=ISSUED_EVENT,
        resource={
            "prefect.resource.id": f"gongwen.document.{document_id}",
            "prefect.resource.name": ref,
            "gongwen.document.id": str(document_id),
            "gongwen.document.ref": ref,
        },
    )


@task(name="发文办理", **_RETRIED)
def issue(document_id: int) -> tuple[str, str]:
    """登记, 印制, 归档 and the issued event of one document of a batch in one task; the 发文字号 and the 档号.
    A transient outage retries the whole task: the steps already done return what they did."""
    ref = register.fn(document_id)
    print_files.fn(document_id)
    archive_code = archive.fn(document_id)
    announce_issued.fn(document_id, ref)
    return ref, archive_code


@task(name="核发", **_PERSISTED, **_STEP_RETRIES, retry_condition_fn=store_outage)
def distribute(document_id: int) -> DispatchReport:
    """核发 to every 主送, 抄报 and 抄送 recipient once. Each message is tried as the retry policy says
    (delivery.retry, GONGWEN_MAIL_ATTEMPTS) and nothing retries a mail server's failure on top of that: a
    mail server still down stops the run, the rest stays 待发送, and ``gongwen distribute`` or another run
    continues it. Only an outage of the database or the archive store retries the task (STEP_RETRY_DELAYS), as
    every 发文办理 step does."""
    s = services()
    return dispatch(s.db, s.open_channel(), document_id=document_id, options=s.mail, store=s.archive_store)
