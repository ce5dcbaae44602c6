"""The draft-document flow (拟稿): staff fill the 公文要素 in on the deployment's Run form.

The run form is generated from ``DocumentSpec`` (design.md §3.1, titled with the
要素 names), so a draft made in the UI is checked by exactly the rules a YAML
spec is: the 条例 rules, the directory, the drafter's role. The drafter is whoever
started the run at the 门户 (its stamp in the run's context), not a name typed in. The new draft is
then 送审 by starting its document-lifecycle run.

Parameter types are objects here, not strings (no ``from __future__ import annotations``): gongwen
server sends the flow to its run's process with cloudpickle, which keeps only the globals the
function's code uses (flows.run_processes).
"""

from dataclasses import replace

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment

from actions import drafting
from flows.runtime import services
from flows.served_names import LIFECYCLE
from flows.starts import started_by
from models.identity import SignedIn
from models.spec import DocumentSpec, parse_spec


@flow(name="draft-document", persist_result=True)
def draft_document(spec: DocumentSpec, submit: bool = True) -> dict[str, object]:
    """拟稿 by the person who started the run at the 门户, then 送审 (the document's lifecycle run starts).

    Args:
        spec: 公文要素
        submit: 起草后立即送审
    """
    drafter = started_by("draft_refused")
    document_id = create_draft(spec, drafter)
    if not submit:
        return {"id": document_id}
    submit_draft(document_id, drafter)
    run = run_deployment(LIFECYCLE, parameters={"document_id": document_id}, timeout=0, as_subflow=False)
    return {"id": document_id, "lifecycle_run": str(run.id)}


@task(name="拟稿", cache_policy=NO_CACHE)
def create_draft(spec: DocumentSpec, drafter: SignedIn) -> int:
    checked, warnings = parse_spec(spec.model_dump(mode="json", exclude_none=True))
    return drafting.draft(services().db, spec=checked, by=drafter, warnings=warnings).id


@task(name="送审", cache_policy=NO_CACHE)
def submit_draft(document_id: int, drafter: SignedIn) -> None:
    """送审 under the same start (拟稿并送审 is one start at the 门户; its stamp is recorded for each act)."""
    drafting.submit(services().db, document_id=document_id, by=replace(drafter, nonce=f"{drafter.nonce}/送审"))
