"""Every deployment of gongwen: its flow, schedule and trigger, served by ``gongwen server``.

The deployments are named after their flows and all called ``gongwen``
(``document-lifecycle/gongwen``…). distribute-document starts when a document
is issued (the ``gongwen.document.issued`` event, with the document's id taken
from the event); remind-unacknowledged runs every day at 09:00 Asia/Shanghai.
deploy/prefect.yaml declares the same deployments for work pools.
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron

from flows.auditing import audit_retrieve
from flows.drafting import draft_document
from flows.lifecycle import document_lifecycle, issue_document, issue_documents
from flows.receipts import acknowledge_receipt, distribute_document, remind_unacknowledged
from flows.steps import ISSUED_EVENT

NAME = "gongwen"
TIMEZONE = "Asia/Shanghai"
REMIND_CRON = "0 9 * * *"
#: The document's id from the event, rendered by Jinja, then read as JSON (an integer, as the flow expects).
_DOCUMENT_ID = "{{ event.resource['gongwen.document.id'] }}"


def issued_trigger() -> DeploymentEventTrigger:
    """Start distribute-document for the document named by a ``gongwen.document.issued`` event."""
    return DeploymentEventTrigger(
        name="公文印发后自动核发",
        expect={ISSUED_EVENT},
        match={"prefect.resource.id": "gongwen.document.*"},
        parameters={
            "document_id": {"__prefect_kind": "json", "value": {"__prefect_kind": "jinja", "template": _DOCUMENT_ID}}
        },
    )


def deployments() -> list[RunnerDeployment]:
    """All of gongwen's deployments, ready to serve."""
    tags = ["gongwen"]
    return [
        document_lifecycle.to_deployment(
            NAME, tags=tags, description="送审、核稿、会签、签发（表单），随后登记、印制、归档"
        ),
        issue_document.to_deployment(NAME, tags=tags, description="已签发公文的登记、印制、归档"),
        issue_documents.to_deployment(NAME, tags=tags, description="成批办理已签发公文的登记、印制、归档"),
        draft_document.to_deployment(NAME, tags=tags, description="拟稿并送审"),
        distribute_document.to_deployment(
            NAME, tags=tags, description="核发：主送、抄报、抄送", triggers=[issued_trigger()]
        ),
        acknowledge_receipt.to_deployment(NAME, tags=tags, description="签收（凭签收码）"),
        remind_unacknowledged.to_deployment(
            NAME, tags=tags, description="催办逾期未签收的单位", schedule=Cron(REMIND_CRON, timezone=TIMEZONE)
        ),
        audit_retrieve.to_deployment(NAME, tags=tags, description="档案检索与四性检测"),
    ]
