"""The distribute-document, acknowledge-receipt and remind-unacknowledged flows (核发, 签收, 催办).

distribute-document starts on ``gongwen.document.issued`` (a deployment trigger,
flows.deployments) and sends the document once to each recipient
(actions.distribution); acknowledge-receipt is the form a recipient fills in with
the 签收码 from the message; remind-unacknowledged runs every morning
(Asia/Shanghai), sends the 催办 that are due, escalates to the issuer's office
after the configured number, and shows what is still overdue.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from actions import distribution
from flows import artifacts, steps
from flows.runtime import services
from storage import deliveries


@flow(name="distribute-document", persist_result=True)
def distribute_document(document_id: int) -> dict[str, int]:
    """核发 a 已归档 document to its 主送, 抄报 and 抄送; never twice to one recipient."""
    report = steps.distribute(document_id)
    with services().db.transaction() as session:
        rows = deliveries.of_document(session, document_id=document_id)
    artifacts.deliveries_table(document_id, rows)
    return report.by_status


@flow(name="acknowledge-receipt", persist_result=True)
def acknowledge_receipt(code: str = Field(title="签收码", min_length=1, max_length=100)) -> str:
    """签收: the recipient enters the 签收码 from the message; a wrong or used code is refused."""
    return acknowledge(code.strip())


@task(name="签收", cache_policy=NO_CACHE)
def acknowledge(code: str) -> str:
    delivery = distribution.acknowledge_code(services().db, code=code)
    return f"「{delivery.recipient}」已签收公文 {delivery.document_id}"


@flow(name="remind-unacknowledged", persist_result=True)
def remind_unacknowledged() -> dict[str, int]:
    """催办 every overdue delivery; 催办升级 after the configured count; the overdue, as a table."""
    s = services()
    report = distribution.remind(s.db, s.open_channel(), policy=s.chase, options=s.mail, now=dt.datetime.now(dt.UTC))
    artifacts.overdue_table(report.overdue)
    return {
        "reminded": len(report.reminded),
        "escalated": sum(map(len, report.escalated.values())),
        "overdue": len(report.overdue),
    }
