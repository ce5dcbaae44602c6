"""门户的通行规则 (models.access_policy): each role × each class of Prefect route, allowed or refused.

``UI_CALLS`` are the API calls both Prefect 3.9 UIs (V1 and the default V2) made in Chromium on the
pages staff use — dashboard, runs, a lifecycle run suspended on its 审核单 (its tabs and the Resume
form), flows, deployments and the Run form, artifacts, events, work pools — recorded against
``gongwen server`` (docs/prefect-routes.md): every one must pass for every signed-in person, or a
page breaks.
"""

from __future__ import annotations

import re

import pytest
from prefect.server.api.server import create_api_app

from models.access_policy import (
    AUDIT_ONLY,
    AUDITORS_ONLY,
    BAD_PATH,
    NOT_OURS,
    OPERATORS_ONLY,
    READ_ONLY,
    ROUTES,
    Decision,
    Kind,
    decide,
    decide_start,
    form_key,
)
from models.vocabulary import Role

RUN = "0d6f5c1e-1b2a-4c3d-9e8f-001122334455"
ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

#: every role alone; "staff" is each of them but the operator
ALONE = {role: frozenset({role}) for role in Role}
STAFF = [roles for role, roles in ALONE.items() if role is not Role.OPERATOR]
NOT_READ_ONLY = [roles for role, roles in ALONE.items() if role not in (Role.OPERATOR, Role.AUDITOR)]
AUDITOR = ALONE[Role.AUDITOR]
OPERATOR = ALONE[Role.OPERATOR]

PASSES = Decision(True)
ANSWERS = Decision(True, kind=Kind.ANSWER)
STARTS = Decision(True, kind=Kind.START)
READS_FORM = Decision(True, kind=Kind.READ_INPUT)

#: recorded in Chromium (V1 and V2, both), RUN the suspended lifecycle run; the Resume form's own
#: calls are the run, its two input keys and the schema check
UI_CALLS: list[tuple[str, str]] = [
    ("GET", "/health"),
    ("GET", "/admin/settings"),
    ("GET", "/admin/version"),
    ("POST", "/artifacts/filter"),
    ("POST", "/artifacts/latest/count"),
    ("POST", "/artifacts/latest/filter"),
    ("POST", "/automations/filter"),
    ("GET", f"/automations/related-to/prefect.deployment.{ID}"),
    ("POST", "/deployments/count"),
    ("POST", "/deployments/filter"),
    ("POST", "/deployments/paginate"),
    ("GET", f"/deployments/{ID}"),
    ("POST", "/events/count-by/event"),
    ("POST", "/events/count-by/time"),
    ("POST", "/events/filter"),
    ("POST", "/flow_runs/count"),
    ("POST", "/flow_runs/filter"),
    ("POST", "/flow_runs/paginate"),
    ("GET", f"/flow_runs/{RUN}"),
    ("GET", f"/flow_runs/{RUN}/graph-v2"),
    ("GET", f"/flow_runs/{RUN}/input/suspended-answer-0-description"),
    ("GET", f"/flow_runs/{RUN}/input/suspended-answer-0-schema"),
    ("GET", f"/flow_runs/{RUN}/logs/download"),
    ("POST", "/flows/count"),
    ("POST", "/flows/filter"),
    ("POST", "/flows/paginate"),
    ("GET", f"/flows/{ID}"),
    ("POST", "/logs/filter"),
    ("POST", "/saved_searches/filter"),
    ("POST", "/task_runs/count"),
    ("POST", "/task_runs/history"),
    ("POST", "/task_runs/paginate"),
    ("GET", f"/task_runs/{ID}"),
    ("POST", "/ui/flow_runs/count-task-runs"),
    ("POST", "/ui/flow_runs/history"),
    ("POST", "/ui/flows/count-deployments"),
    ("POST", "/ui/flows/next-runs"),
    ("POST", "/ui/schemas/validate"),
    ("GET", f"/ui/task_runs/{ID}"),
    ("POST", "/work_pools/count"),
    ("POST", "/work_pools/filter"),
    ("GET", "/work_pools/gongwen"),
    ("POST", "/work_queues/filter"),
]

#: in the UI bundles' API clients for the same pages, but not seen above (no such data on the server,
#: or a form not submitted): the Resume and Run forms' submits, an artifact's page, more pages of events
UI_BUNDLE_CALLS: list[tuple[str, str]] = [
    ("POST", f"/flow_runs/{RUN}/resume"),
    ("POST", f"/deployments/{ID}/create_flow_run"),
    ("GET", f"/artifacts/{ID}"),
    ("GET", "/artifacts/document-1-preview/latest"),
    ("POST", "/artifacts/count"),
    ("GET", "/events/filter/next"),
    ("POST", "/flow_runs/history"),
    ("POST", "/flow_runs/lateness"),
    ("GET", f"/flow_run_states/{ID}"),
    ("GET", f"/task_run_states/{ID}"),
    ("POST", "/ui/task_runs/count"),
    ("GET", "/observed-states"),
    ("GET", "/csrf-token"),
    ("POST", "/work_pools/gongwen/queues/filter"),
    ("GET", "/work_pools/gongwen/queues/default"),
    ("POST", "/work_pools/gongwen/workers/filter"),
    ("GET", f"/work_queues/{ID}"),
]

#: what the event feed's resource picker also asks: block documents (a read of them can ask for their
#: secrets), refused and answered empty by the gateway: a 403 would show an error on the page
UI_CALLS_EMPTY = [("POST", "/block_documents/filter")]

#: the reads gongwen's command line (gongwen.desk) and a websocket client make, and path variants
READS = [
    ("GET", "/deployments/name/draft-document/gongwen"),
    ("GET", f"/flow_runs/{RUN}/input/outcome-answer-0"),
    ("GET", "/logs/out"),
    ("GET", "/events/out"),
    ("HEAD", f"/flow_runs/{RUN}"),
    ("GET", f"/flow_runs/{RUN}/"),
    ("GET", "/flow_run_states/"),
]

FORM_KEYS = [
    "suspended-answer-0-schema",
    "suspended-answer-0-description",
    "suspended-revise-2-schema",
    "paused-1-description",
    "outcome-answer-0",
]
NOT_FORM_KEYS = [
    "suspended-answer-0-response",
    "outcome-answer-0-response",
    "suspended-answer-0-response-schema",
    "answer-0",
    "suspended-answer-0",
    "schema",
]

#: the classes nobody but operators reaches, each with requests of it
OPERATORS_ONLY_ROUTES: dict[str, list[tuple[str, str]]] = {
    "deployment writes": [
        ("POST", "/deployments/"),
        ("PATCH", f"/deployments/{ID}"),
        ("POST", f"/deployments/{ID}/pause_deployment"),
        ("POST", f"/deployments/{ID}/resume_deployment"),
        ("POST", f"/deployments/{ID}/schedules"),
        ("PATCH", f"/deployments/{ID}/schedules/{RUN}"),
        ("POST", f"/deployments/{ID}/create_flow_run/bulk"),
    ],
    "work pool and queue writes": [
        ("POST", "/work_pools/"),
        ("PATCH", "/work_pools/gongwen"),
        ("POST", "/work_pools/gongwen/queues"),
        ("PATCH", "/work_pools/gongwen/queues/default"),
        ("POST", "/work_queues/"),
        ("PATCH", f"/work_queues/{ID}"),
        ("POST", "/work_pools/gongwen/workers/heartbeat"),
    ],
    "moving work (marks pools and queues ready)": [
        ("POST", "/work_pools/gongwen/get_scheduled_flow_runs"),
        ("POST", f"/work_queues/{ID}/get_runs"),
        ("POST", "/deployments/get_scheduled_flow_runs"),
        ("GET", "/task_runs/subscriptions/scheduled"),
        ("GET", "/work_pools/gongwen/workers/connect"),
    ],
    "blocks (reads too: include_secrets is in the request)": [
        ("POST", "/block_documents/count"),
        ("GET", f"/block_documents/{ID}"),
        ("POST", "/block_documents/"),
        ("PATCH", f"/block_documents/{ID}"),
        ("POST", "/block_types/"),
        ("POST", "/block_schemas/"),
    ],
    "variables (reads too)": [
        ("POST", "/variables/filter"),
        ("POST", "/variables/"),
        ("PATCH", "/variables/name/office"),
    ],
    "automation writes": [
        ("POST", "/automations/"),
        ("PUT", f"/automations/{ID}"),
        ("PATCH", f"/automations/{ID}"),
        ("DELETE", f"/automations/owned-by/{ID}"),
        ("POST", "/automations/templates/validate"),
    ],
    "concurrency limits (reads too)": [
        ("POST", "/concurrency_limits/"),
        ("POST", "/v2/concurrency_limits/filter"),
        ("POST", "/concurrency_limits/tag/archive/reset"),
        ("POST", "/v2/concurrency_limits/"),
        ("PATCH", "/v2/concurrency_limits/archive"),
        ("POST", "/v2/concurrency_limits/increment"),
    ],
    "flow-run input filter and writes": [
        ("POST", f"/flow_runs/{RUN}/input/filter"),
        ("POST", f"/flow_runs/{RUN}/input"),
        ("DELETE", f"/flow_runs/{RUN}/input/suspended-answer-0-schema"),
    ],
    "deletes": [
        ("DELETE", f"/flow_runs/{RUN}"),
        ("DELETE", f"/flows/{ID}"),
        ("DELETE", f"/deployments/{ID}"),
        ("DELETE", f"/task_runs/{ID}"),
        ("DELETE", f"/artifacts/{ID}"),
        ("DELETE", "/work_pools/gongwen"),
        ("DELETE", f"/saved_searches/{ID}"),
        ("POST", "/flow_runs/bulk_delete"),
        ("POST", "/deployments/bulk_delete"),
    ],
    "run states (cancel, retry) and runs not from a deployment": [
        ("POST", f"/flow_runs/{RUN}/set_state"),
        ("POST", "/flow_runs/bulk_set_state"),
        ("PATCH", f"/flow_runs/{RUN}"),
        ("PATCH", f"/flow_runs/{RUN}/labels"),
        ("POST", "/flow_runs/"),
        ("POST", "/flows/"),
    ],
    "task run, log, artifact and event writes": [
        ("POST", "/task_runs/"),
        ("POST", f"/task_runs/{ID}/set_state"),
        ("POST", "/logs/"),
        ("POST", "/artifacts/"),
        ("PATCH", f"/artifacts/{ID}"),
        ("POST", "/events"),
        ("GET", "/events/in"),
    ],
    "admin": [
        ("GET", "/admin/storage"),
        ("PUT", "/admin/storage"),
        ("DELETE", "/admin/storage"),
    ],
    "unknown routes": [
        ("GET", "/flow_runs/not-a-uuid"),
        ("POST", f"/flow_runs/{RUN}/resume/again"),
        ("GET", "/collections/views/aggregate-worker-metadata"),
        ("PUT", "/saved_searches/"),
        ("OPTIONS", "/flow_runs/filter"),
        ("GET", "/"),
        ("TRACE", "/health"),
    ],
}
REFUSED = [request for requests in OPERATORS_ONLY_ROUTES.values() for request in requests]


@pytest.mark.parametrize("roles", [*STAFF, OPERATOR], ids=str)
@pytest.mark.parametrize(("method", "path"), UI_CALLS + UI_BUNDLE_CALLS + READS)
def test_the_ui_pages_calls_pass_for_everyone_signed_in(roles, method: str, path: str) -> None:
    decision = decide(roles, method, path)
    if path.endswith("/resume"):
        assert decision == (Decision(False, READ_ONLY) if roles == AUDITOR else ANSWERS)
    elif path.endswith("/create_flow_run"):
        assert decision == STARTS
    elif "/input/" in path:
        assert decision == READS_FORM
    else:
        assert decision == PASSES


@pytest.mark.parametrize("roles", STAFF, ids=str)
@pytest.mark.parametrize(("method", "path"), UI_CALLS_EMPTY)
def test_block_documents_are_refused_and_answered_empty_but_to_operators(roles, method: str, path: str) -> None:
    assert decide(roles, method, path) == Decision(False, OPERATORS_ONLY, Kind.EMPTY)
    assert decide(roles | {Role.OPERATOR}, method, path) == PASSES


@pytest.mark.parametrize("roles", [*STAFF, OPERATOR], ids=str)
@pytest.mark.parametrize("key", FORM_KEYS)
def test_everyone_reads_a_forms_schema_description_and_outcome(roles, key: str) -> None:
    assert decide(roles, "GET", f"/flow_runs/{RUN}/input/{key}") == READS_FORM


@pytest.mark.parametrize("roles", STAFF, ids=str)
@pytest.mark.parametrize("key", NOT_FORM_KEYS)
def test_answers_and_other_inputs_only_operators_read(roles, key: str) -> None:
    path = f"/flow_runs/{RUN}/input/{key}"
    assert not form_key(key)
    assert decide(roles, "GET", path) == Decision(False, OPERATORS_ONLY)
    assert decide(OPERATOR, "GET", path) == PASSES


@pytest.mark.parametrize("roles", [*NOT_READ_ONLY, OPERATOR], ids=str)
def test_everyone_but_the_read_only_answers_a_form(roles) -> None:
    assert decide(roles, "POST", f"/flow_runs/{RUN}/resume") == ANSWERS


@pytest.mark.parametrize(
    "roles", [AUDITOR, frozenset({Role.AUDITOR, Role.REVIEWER}), frozenset({Role.AUDITOR, Role.OPERATOR})], ids=str
)
def test_an_auditor_answers_only_with_another_role(roles) -> None:
    decision = decide(roles, "POST", f"/flow_runs/{RUN}/resume")
    assert decision == (Decision(False, READ_ONLY) if roles == AUDITOR else ANSWERS)


@pytest.mark.parametrize("roles", [*STAFF, OPERATOR], ids=str)
def test_everyone_asks_to_start_a_deployment(roles) -> None:
    assert decide(roles, "POST", f"/deployments/{ID}/create_flow_run") == STARTS


@pytest.mark.parametrize("roles", STAFF, ids=str)
@pytest.mark.parametrize(("method", "path"), REFUSED)
def test_only_operators_reach_the_rest(roles, method: str, path: str) -> None:
    assert decide(roles, method, path) == Decision(False, OPERATORS_ONLY)
    assert decide(roles | {Role.OPERATOR}, method, path).allowed


@pytest.mark.parametrize("roles", [*STAFF, OPERATOR], ids=str)
@pytest.mark.parametrize("path", ["/flow_runs//filter", "/flow_runs/../admin/storage", "/./health", "health", ""])
def test_a_path_with_empty_or_dot_segments_is_refused(roles, path: str) -> None:
    assert decide(roles, "GET", path) == Decision(False, BAD_PATH)


OURS = frozenset({"draft-document/gongwen", "document-lifecycle/gongwen", "audit-retrieve/gongwen"})
AUDIT = "audit-retrieve/gongwen"


@pytest.mark.parametrize(
    ("roles", "deployment", "reason"),
    [
        (ALONE[Role.DRAFTER], "draft-document/gongwen", None),
        (ALONE[Role.SIGNER], "document-lifecycle/gongwen", None),
        (ALONE[Role.DRAFTER], AUDIT, AUDITORS_ONLY),
        (ALONE[Role.DRAFTER], "shell/elsewhere", NOT_OURS),
        (AUDITOR, AUDIT, None),
        (AUDITOR, "draft-document/gongwen", AUDIT_ONLY),
        (AUDITOR, "shell/elsewhere", AUDIT_ONLY),
        (frozenset({Role.AUDITOR, Role.DRAFTER}), "draft-document/gongwen", None),
        (frozenset({Role.AUDITOR, Role.DRAFTER}), AUDIT, None),
        (OPERATOR, AUDIT, None),
        (OPERATOR, "shell/elsewhere", None),
    ],
)
def test_who_starts_which_deployment(roles, deployment: str, reason: str | None) -> None:
    decision = decide_start(roles, deployment, ours=OURS, audit_retrieve=AUDIT)
    assert decision == (STARTS if reason is None else Decision(False, reason))


def test_every_route_of_the_table_is_one_of_the_prefect_servers() -> None:
    """A misspelt route in the table would refuse what the UI needs (websockets are not in OpenAPI)."""
    paths = create_api_app().openapi()["paths"]
    served = {(method.upper(), _generic(path)) for path, operations in paths.items() for method in operations}
    served |= {("GET", "/events/out"), ("GET", "/logs/out")}
    assert {(method, _generic(template)) for method, template, _ in ROUTES} - served == set()


def _generic(template: str) -> str:
    """``/flow_runs/{id}/`` and ``/flow_runs/{flow_run_id}`` alike: ``/flow_runs/{}``."""
    return re.sub(r"\{[^}]+\}", "{}", template).rstrip("/")
