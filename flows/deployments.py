"""Every deployment of gongwen: its flow, schedule and trigger, served by ``gongwen server``.

The deployments are named after their flows and all called ``gongwen``
(``document-lifecycle/gongwen``…). distribute-document starts when a document
is issued (the ``gongwen.document.issued`` event, with the document's id taken
from the event); remind-unacknowledged runs every day at 09:00 Asia/Shanghai and
anchor-audit-log (审计链锚点) at 23:50. The year's 宣传工作 adds annual-plan (each January),
chase-plans (daily) and quarterly-circular (each quarter's last day), and receive-plan,
submit-work-info, mark-work-info, assess-counties.
deploy/prefect.yaml declares the same deployments for work pools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from prefect import Flow
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
from flows.auditing import anchor_audit_log, audit_retrieve
from flows.drafting import draft_document
from flows.lifecycle import document_lifecycle, issue_document, issue_documents
from flows.receipts import acknowledge_receipt, distribute_document, remind_unacknowledged
from flows.served_names import NAME
from flows.steps import ISSUED_EVENT

TIMEZONE = "Asia/Shanghai"
REMIND_CRON = "0 9 * * *"
#: 审计链锚点 each night, once the day's work is recorded.
ANCHOR_CRON = "50 23 * * *"
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


@dataclass(frozen=True)
class ServedFlow:
    """One deployment: its flow, description for the UI, and what starts it besides a person (a
    schedule or a trigger)."""

    flow: Flow
    description: str
    schedule: Cron | None = None
    triggers: tuple[DeploymentEventTrigger, ...] = ()

    def options(self) -> dict[str, Any]:
        """The deployment's settings, as ``Flow.to_deployment`` and ``Runner.add_flow`` take them."""
        return {
            "tags": [NAME],
            "description": self.description,
            "schedule": self.schedule,
            "triggers": list(self.triggers) or None,
        }


def served_flows() -> list[ServedFlow]:
    """Every deployment of gongwen."""
    return [
        ServedFlow(document_lifecycle, "送审、核稿、会签、签发（表单），随后登记、印制、归档"),
        ServedFlow(issue_document, "已签发公文的登记、印制、归档"),
        ServedFlow(issue_documents, "成批办理已签发公文的登记、印制、归档"),
        ServedFlow(draft_document, "拟稿并送审"),
        ServedFlow(distribute_document, "核发：主送、抄报、抄送", triggers=(issued_trigger(),)),
        ServedFlow(acknowledge_receipt, "签收（凭签收码）"),
        ServedFlow(remind_unacknowledged, "催办逾期未签收的单位", schedule=_cron(REMIND_CRON)),
        ServedFlow(audit_retrieve, "档案检索与四性检测"),
        ServedFlow(anchor_audit_log, "每日将审计链链头写入归档库（审计链锚点）", _cron(ANCHOR_CRON)),
        *annual_work_flows(),
    ]


#: 年度宣传工作 (flows.annual_flows): the annual plan each January 5 at 09:00; 催办 of missing
#: plans every day at 09:30; the 季度通报 on each quarter's last day at 17:00 (L: the month's last day).
ANNUAL_PLAN_CRON = "0 9 5 1 *"
CHASE_PLANS_CRON = "30 9 * * *"
QUARTER_END_CRON = "0 17 L 3,6,9,12 *"


def annual_work_flows() -> list[ServedFlow]:
    """The deployments of a year's 宣传工作 (models.work)."""
    return [
        ServedFlow(
            annual_plan, "每年一月：依上一年度方案拟稿年度宣传工作实施方案及印发通知，并送审", _cron(ANNUAL_PLAN_CRON)
        ),
        ServedFlow(receive_plan, "收文：签收、登记各单位报送的年度宣传工作方案"),
        ServedFlow(chase_plans, "催办逾期未报送的年度宣传工作方案", _cron(CHASE_PLANS_CRON)),
        ServedFlow(submit_work_info, "登记成员单位、县（区）报送的工作信息"),
        ServedFlow(mark_work_info, "工作信息推送省办、被省简报或国家网站采用"),
        ServedFlow(
            quarterly_circular, "每季度末：拟稿工作信息报送情况通报（统计表、图表），并送审", _cron(QUARTER_END_CRON)
        ),
        ServedFlow(assess_counties, "各县（区）年度宣传成效考核"),
    ]


def _cron(cron: str) -> Cron:
    return Cron(cron, timezone=TIMEZONE)


def deployments() -> list[RunnerDeployment]:
    """All of gongwen's deployments, as deployment objects (deploy/prefect.yaml declares the same)."""
    return [served.flow.to_deployment(NAME, **served.options()) for served in served_flows()]


def deployment_names() -> list[str]:
    """``flow/deployment`` of every deployment (what a client waits for once a server starts)."""
    return [f"{deployment.flow_name}/{deployment.name}" for deployment in deployments()]
