"""Every deployment of gongwen: its flow, schedule and trigger, served by ``gongwen server``.

The deployments are named after their flows and all called ``gongwen``
(``document-lifecycle/gongwen``…). distribute-document starts when a document
is issued (the ``gongwen.document.issued`` event, with the document's id taken
from the event); remind-unacknowledged runs every day at 09:00 Asia/Shanghai. The year's
宣传工作 adds annual-plan (each January), chase-plans (daily) and quarterly-circular (each
quarter's last day), and receive-plan, submit-work-info, mark-work-info, assess-counties.
deploy/prefect.yaml declares the same deployments for work pools.
"""

from __future__ import annotations

from prefect.deployments.runner import RunnerDeployment
from prefect.events import DeploymentEventTrigger
from prefect.schedules import Cron

from flows.annual_flows import (
    annual_plan,
    assess_counties,
    chase_plans,
    mark_work_info,
    quarterly_circular,
    receive_plan,
    submit_work_info,
)
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
        *annual_work_deployments(tags),
    ]


#: 年度宣传工作 (flows.annual_flows): the annual plan each January 5 at 09:00; 催办 of missing
#: plans every day at 09:30; the 季度通报 on each quarter's last day at 17:00 (L: the month's last day).
ANNUAL_PLAN_CRON = "0 9 5 1 *"
CHASE_PLANS_CRON = "30 9 * * *"
QUARTER_END_CRON = "0 17 L 3,6,9,12 *"


def annual_work_deployments(tags: list[str]) -> list[RunnerDeployment]:
    """The deployments of a year's 宣传工作 (models.work): flow, description, schedule (cron) if any."""
    plan = [
        (annual_plan, "每年一月：依上一年度方案拟稿年度宣传工作实施方案及印发通知，并送审", ANNUAL_PLAN_CRON),
        (receive_plan, "收文：签收、登记各单位报送的年度宣传工作方案", None),
        (chase_plans, "催办逾期未报送的年度宣传工作方案", CHASE_PLANS_CRON),
        (submit_work_info, "登记成员单位、县（区）报送的工作信息", None),
        (mark_work_info, "工作信息推送省办、被省简报或国家网站采用", None),
        (quarterly_circular, "每季度末：拟稿工作信息报送情况通报（统计表、图表），并送审", QUARTER_END_CRON),
        (assess_counties, "各县（区）年度宣传成效考核", None),
    ]
    return [
        flow.to_deployment(
            NAME, tags=tags, description=description, schedule=Cron(cron, timezone=TIMEZONE) if cron else None
        )
        for flow, description, cron in plan
    ]


def deployment_names() -> list[str]:
    """``flow/deployment`` of every deployment (what a client waits for once a server starts)."""
    return [f"{deployment.flow_name}/{deployment.name}" for deployment in deployments()]
