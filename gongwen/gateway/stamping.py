"""门户签章 on what a signed-in person sends to gongwen's runs: a form answer, a start of a deployment.

- A form answer (``POST /api/flow_runs/{id}/resume`` with ``run_input``) to a gongwen lifecycle run
  waiting on a form: the gateway asks gongwen whether this person may answer it now
  (actions.answering.check — a refusal is answered at once, 403 with the reason, and audited); then it
  drops any name or PIN the client put in, stores its stamp — the person, over the answer, the run and
  the form's key (models.stamps) — as the run's input ``stamp-<form key>``, and passes the answer on.
- A start (``POST /api/deployments/{id}/create_flow_run``): only gongwen's own deployments, and
  audit-retrieve only for auditors (models.access_policy.decide_start); the parameters are hydrated as
  Prefect would store them and the stamp over them goes into the run's context
  (``gongwen_stamp``), where the flow reads who started it.
Anything else under these routes (a run that is not gongwen's, a run not waiting) goes on unchanged,
and Prefect answers it.
"""

from __future__ import annotations

import functools
import json
import time
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from actions import answering
from flows.served_names import AUDIT_RETRIEVE, LIFECYCLE, NAME
from models import access_policy, stamps
from models.errors import NotAllowed

if TYPE_CHECKING:
    from gongwen.gateway.app import Door, Visitor

_DROPPED = {"person", "pin"}


async def stamped(door: Door, request: Request, visitor: Visitor, kind: access_policy.Kind) -> Response:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        return JSONResponse({"detail": "请求内容须为 JSON"}, 400)
    if not isinstance(body, dict):
        return JSONResponse({"detail": "请求内容须为 JSON 对象"}, 400)
    object_id = request.url.path.split("/")[3]
    if kind is access_policy.Kind.ANSWER:
        return await _answer(door, request, visitor, object_id, body)
    return await _start(door, request, visitor, object_id, body)


async def _answer(door: Door, request: Request, visitor: Visitor, run_id: str, body: dict) -> Response:
    run_input = body.get("run_input")
    fetched = await door.upstream.call("GET", f"/api/flow_runs/{run_id}")
    run = fetched.json() if fetched.status_code == 200 else {}
    key = ((run.get("state") or {}).get("state_details") or {}).get("pause_key")
    document_id = (run.get("parameters") or {}).get("document_id")
    if not isinstance(run_input, dict) or key is None or not isinstance(document_id, int) or not _ours(run):
        return await door.upstream.forward(request)
    try:
        await run_in_threadpool(
            functools.partial(
                answering.check, door.config.db, document_id=document_id, name=visitor.name, answer=run_input
            )
        )
    except NotAllowed as refusal:  # audited by the check, under the action's name
        return JSONResponse({"detail": refusal.message, "field": refusal.field}, 403)
    content = {k: v for k, v in run_input.items() if k not in _DROPPED}
    target = stamps.answer_target(run_id, key)
    stamp = stamps.sign(door.config.secret_key, person=visitor.name, target=target, content=content, at=time.time())
    # beside the answer (the form's schema admits no other field), before it: the run reads it when resumed
    stored = f"/api/flow_runs/{run_id}/input"
    await door.upstream.call("DELETE", f"{stored}/{stamps.input_key(key)}")
    put = await door.upstream.call("POST", stored, json_body={"key": stamps.input_key(key), "value": json.dumps(stamp)})
    if put.status_code >= 400:
        return JSONResponse({"detail": "门户未能为答复签章，请稍后重试"}, 502)
    return await door.upstream.forward(request, body=json.dumps(body | {"run_input": content}).encode())


async def _start(door: Door, request: Request, visitor: Visitor, deployment_id: str, body: dict) -> Response:
    fetched = await door.upstream.call("GET", f"/api/deployments/{deployment_id}")
    if fetched.status_code != 200:
        return await door.upstream.forward(request)
    deployment = fetched.json()
    flow = await door.upstream.call("GET", f"/api/flows/{deployment['flow_id']}")
    name = f"{flow.json().get('name')}/{deployment.get('name')}"
    decision = access_policy.decide_start(
        visitor.roles, name, ours=_ours_if_tagged(name, deployment), audit_retrieve=AUDIT_RETRIEVE
    )
    if not decision.allowed:
        return await door.refuse(visitor, request, decision.reason)
    if name == LIFECYCLE and isinstance((body.get("parameters") or {}).get("document_id"), int):
        try:  # starting a document's lifecycle run 送审s a draft: its drafter's alone
            document_id = body["parameters"]["document_id"]
            await run_in_threadpool(
                functools.partial(answering.check_submit, door.config.db, document_id=document_id, name=visitor.name)
            )
        except NotAllowed as refusal:
            return JSONResponse({"detail": refusal.message, "field": refusal.field}, 403)
    try:  # as the server will store them: the deployment's defaults under the given values, hydrated
        parameters = _hydrated((deployment.get("parameters") or {}) | (body.get("parameters") or {}))
    except Exception as error:  # noqa: BLE001 - Prefect's hydration errors have no common base
        return JSONResponse({"detail": f"参数无法解析：{error}"}, 400)
    stamp = stamps.sign(
        door.config.secret_key,
        person=visitor.name,
        target=stamps.start_target(deployment_id),
        content=parameters,
        at=time.time(),
    )
    context = (body.get("context") or {}) | {stamps.CONTEXT_KEY: stamp}
    return await door.upstream.forward(
        request, body=json.dumps(body | {"parameters": parameters, "context": context}).encode()
    )


def _ours(run: dict[str, Any]) -> bool:
    return NAME in (run.get("tags") or [])


def _ours_if_tagged(name: str, deployment: dict[str, Any]) -> frozenset[str]:
    """``name`` when the deployment is one of gongwen's (tagged ``gongwen``: only operators create
    deployments), else nothing."""
    return frozenset({name}) if NAME in (deployment.get("tags") or []) else frozenset()


def _hydrated(parameters: dict[str, Any]) -> dict[str, Any]:
    """The parameters as the Prefect server stores them (its ``__prefect_kind`` values resolved)."""
    from prefect.utilities.schema_tools.hydration import HydrationContext, hydrate

    return hydrate(parameters, HydrationContext(raise_on_error=True))
