"""Who started this flow run: the person signed in at the 门户 whose stamp is in the run's context
(models.stamps, put there by gongwen.gateway.stamping), verified against the run's deployment and
parameters by actions.answering.started_by. A run started around the gateway has no valid stamp and
its person's action is refused (audited as ``refused_as``)."""

from __future__ import annotations

import time

from prefect.context import FlowRunContext

from actions import answering
from flows.runtime import services
from models import stamps
from models.identity import SignedIn


def started_by(refused_as: str) -> SignedIn:
    """The person who started this run; refused (audited as ``refused_as``) without a valid stamp."""
    run = FlowRunContext.get().flow_run
    return answering.started_by(
        services().db,
        services().stamp_key,
        stamp=(run.context or {}).get(stamps.CONTEXT_KEY),
        target=stamps.start_target(str(run.deployment_id)),
        parameters=run.parameters,
        action=refused_as,
        now=time.time(),
    )


def started_by_if_any(refused_as: str) -> SignedIn | None:
    """The person who started this run, or None for a run nobody started at the 门户 (a schedule, the
    server itself): its record is then the system's, never a name given without proof. A stamp that is
    there but not valid is refused as in ``started_by``."""
    run = FlowRunContext.get().flow_run
    return None if stamps.CONTEXT_KEY not in (run.context or {}) else started_by(refused_as)
