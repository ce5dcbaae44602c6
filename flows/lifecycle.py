"""The document-lifecycle and issue-document flows: 审核 on forms, then 发文办理 by itself.

``document_lifecycle`` carries one document from 送审 to 归档. At each review step
(核稿, every 会签 party in any order, 签发) the run suspends with a form
(flows.forms) and waits for a person's answer in the Prefect UI, or from
``gongwen decide``, through the 门户, which stamps it with the signed-in person. The
answer is applied by the same action the command line calls without a server
(actions.deciding, actions.drafting: the person, the role, the step), as the person
the verified stamp names; a refused answer is audited by that action and the run
suspends again for the same step. Each answer's outcome is the step's persisted
result and is published as the run input ``outcome-answer-N``, which is how the
person's client learns what became of the answer. A 退回修改 sends the draft
back: the run waits for its drafter's 修改单 (revised content and 重新送审, or 撤销)
and the new round goes through review again. After 签发 it issues the document
(``issue_document``'s steps) and emits ``gongwen.document.issued``, on which
distribute-document (flows.receipts) starts.

A suspended run runs again from the top when it is resumed. The forms are numbered
in the order the run shows them (``answer-0``, ``answer-1``…) and each answer is
applied by a task whose persisted result is keyed by the run and that number:
when the run replays its earlier forms it gets their results back instead of
applying an answer twice, and only the first form not yet answered suspends the
run again; it looks those results up in the result store without starting the
forms' tasks again, and does not bind the document again once it has suspended
(the binding comes before the first form). The issuing steps are persisted,
idempotent tasks too, so resuming, retrying or restarting after a crash never
takes a second number or writes a second package. An answer holds no secret: who gave it is the
person signed in at the 门户, named with the gateway's stamp (models.stamps), never a PIN.
"""

from __future__ import annotations

import contextvars
import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from uuid import UUID

import httpx
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.flow_runs import suspend_flow_run
from prefect.input import create_flow_run_input, read_flow_run_input
from prefect.input.run_input import keyset_from_base_key
from prefect.results import get_result_store
from prefect.runtime import flow_run

from actions import answering, deciding, drafting
from flows import artifacts, steps
from flows.forms import form_for
from flows.runtime import services
from flows.starts import started_by
from models import stamps
from models.errors import InputError, NotAllowed, as_record
from models.identity import SignedIn
from models.lifecycle import Action, State
from models.spec import parse_spec
from storage import archiving, documents, review

#: Documents a batch run (issue-documents) carries at once: their database and disk waits overlap; more
#: threads only contend for the interpreter and the database's write lock (bench/lifecycle.py).
BATCH_WORKERS = 2


@flow(name="document-lifecycle", persist_result=True)
def document_lifecycle(document_id: int) -> str:
    """送审 → 核稿 → 会签 → 签发 on forms, then 登记, 印制, 归档 and the issued event.

    Args:
        document_id: 公文编号（拟稿时给出）
    """
    pause_keys = FlowRunContext.get().flow_run.empirical_policy.pause_keys
    if not pause_keys:  # once suspended, the run was bound before its first form: attach's result is kept
        attach(document_id, str(flow_run.id))
    for index in itertools.count():
        key = f"answer-{index}"
        if key in pause_keys and _applied(key):
            continue  # answered and applied in an earlier execution of this run
        now = review.stage(services().db, document_id=document_id)
        if not now.waiting:
            break
        if key not in pause_keys:
            suspend_flow_run(wait_for_input=form_for(now, _current_spec(now)), key=key, timeout=None)
        # the answer as stored (its stamp, and so its person, lies beside it: answer_step)
        answer = read_flow_run_input(keyset_from_base_key(f"suspended-{key}")["response"])
        answer_step(document_id, index, answer, key)
    if now.state is State.WITHDRAWN:
        return "已撤销"
    return issue_steps(document_id)[0]


@flow(name="issue-document", persist_result=True)
def issue_document(document_id: int) -> str:
    """发文办理 of a 已签发 document: 登记, 印制, 归档, then the issued event."""
    return issue_steps(document_id)[0]


@flow(name="issue-documents", persist_result=True)
def issue_documents(document_ids: list[int]) -> dict[int, str]:
    """发文办理 of a batch of 已签发 documents, several at a time; each one's 发文字号 (numbers are
    taken in the order the documents reach 登记). Each document's steps are one task
    (steps.issue) and the run shows one table of what it issued rather than each document's artifacts.

    Args:
        document_ids: 已签发公文的编号
    """
    with ThreadPoolExecutor(max_workers=BATCH_WORKERS, thread_name_prefix="发文办理") as pool:
        # one worker carries a document's task, its steps in order, so no worker waits on another's step;
        # each call runs in its own copy of this run's context, as Prefect's own task runners do
        issued = dict(zip(document_ids, pool.map(_in_this_run(steps.issue), document_ids), strict=True))
    artifacts.batch_table(issued)
    return {document_id: ref for document_id, (ref, _) in issued.items()}


def _in_this_run(issue: Callable[[int], tuple[str, str]]) -> Callable[[int], tuple[str, str]]:
    """``issue(document_id)`` in a copy of the calling flow run's context."""
    context = contextvars.copy_context()
    return lambda document_id: context.copy().run(issue, document_id)


def issue_steps(document_id: int) -> tuple[str, str]:
    """登记, 印制, 归档 and the issued event, each a persisted task, and the document's artifacts; the
    发文字号 and the 档号."""
    ref = steps.register(document_id)
    steps.print_files(document_id)
    archive_code = steps.archive(document_id)
    show_archived(document_id)
    steps.announce_issued(document_id, ref)
    return ref, archive_code


@task(name="登记流程运行", persist_result=True)
def attach(document_id: int, run_id: str) -> str:
    """Bind the document to this run; a draft never submitted is 送审 by the person who started the run at
    the 门户 (flows.starts: only its drafter may). Refused while another run that has not finished
    carries the document, so one document never has two runs waiting on forms."""
    db = services().db
    carrier = review.bound_run(db, document_id=document_id)
    if carrier not in (None, run_id) and not _finished(carrier):
        raise NotAllowed(f"公文 {document_id} 已由流程运行 {carrier} 办理，本运行不再办理", "document_id")
    now = review.stage(db, document_id=document_id)
    if now.state is State.DRAFT and now.round == 0:
        drafting.submit(db, document_id=document_id, by=started_by("submit_refused"))
    return review.attach_run(db, document_id=document_id, flow_run_id=run_id).value


def _finished(run_id: str) -> bool:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(UUID(run_id)).state.is_final()


def _current_spec(now: review.ReviewStage):
    if now.step != review.REVISION:
        return None
    with services().db.transaction() as session:
        return documents.spec_of(documents.get(session, document_id=now.document_id))


def _answer_key(context: object, parameters: dict) -> str:
    return f"{flow_run.id}-{parameters['key']}"


def _applied(key: str) -> bool:
    """Whether the answer on form ``key`` has been applied: its 审核 step's result is persisted (what
    the step's cache would find, looked up without a task run or reading the answer again)."""
    return get_result_store().update_for_task(answer_step).exists(_answer_key(None, {"key": key}))


@task(name="审核", persist_result=True, cache_key_fn=_answer_key)
def answer_step(document_id: int, index: int, answer: dict, key: str) -> dict:
    """Apply one answer from a form through the same action the command line calls, as the person the
    门户's stamp on it names (actions.answering.signed_in: an answer without a valid stamp is refused);
    its outcome — accepted (the state it led to) or refused (the error, audited by the action) — is this
    step's persisted result and is published beside the form as ``outcome-<key>``, where the person's
    client (gongwen decide, revise, withdraw) reads it."""
    db = services().db
    target = stamps.answer_target(str(flow_run.id), key)
    try:
        by = answering.signed_in(
            db,
            services().stamp_key,
            document_id=document_id,
            target=target,
            answer=answer,
            stamp=read_flow_run_input(stamps.input_key(key)),  # None if there is none
            now=time.time(),
        )
        outcome = apply_answer(document_id, answer, by)
    except (NotAllowed, InputError) as refusal:
        outcome = {"accepted": False, "error": as_record(refusal)}
    _publish(f"outcome-{key}", outcome)
    show_review(document_id)
    return outcome


def apply_answer(document_id: int, answer: dict, by: SignedIn) -> dict:
    """An answer of a 审核单 (``verdict``) or a 修改单 (``action``) applied by its action; the outcome record
    (a refusal is raised, audited by the action)."""
    db = services().db
    if "verdict" in answer:
        approve = answer["verdict"] == Action.APPROVE.label
        decided = deciding.decide(
            db, document_id=document_id, by=by, approve=approve, opinion=answer.get("opinion", "")
        )
        return {"accepted": True, "state": decided.state.value, "step": decided.step, "pending": decided.pending}
    if answer["action"] == review.RESUBMIT:
        spec, _ = parse_spec(answer["spec"])
        state = drafting.revise(db, document_id=document_id, spec=spec, by=by, note=answer.get("note", ""))
    else:
        state = drafting.withdraw(db, document_id=document_id, by=by)
    return {"accepted": True, "state": state.value}


def _publish(key: str, value: dict) -> None:
    """Store ``value`` as this run's input ``key`` (once: a replayed step finds it there)."""
    try:
        create_flow_run_input(key, value)
    except httpx.HTTPStatusError as error:
        if error.response.status_code != httpx.codes.CONFLICT:
            raise


def show_review(document_id: int) -> None:
    """The preview and the decisions so far, on the run's Artifacts tab."""
    with services().db.transaction() as session:
        document = documents.get(session, document_id=document_id)
        decisions = documents.decisions(session, document_id=document_id)
    artifacts.preview(document)
    artifacts.decisions_table(document_id, decisions)


@task(name="归档链接", persist_result=True)
def show_archived(document_id: int) -> None:
    """The document as issued, its decisions and a link to the archived PDF."""
    s = services()
    show_review(document_id)
    with s.db.transaction() as session:
        record = archiving.find_record(session, document_id=document_id)
    artifacts.archive_link(document_id, record)
