"""门户的通行规则 — which Prefect API request a signed-in person may make (issue 18, "Roles decide what passes").

The 门户 (sign-in gateway) asks ``decide(roles, method, path)`` for every ``/api/...`` request it
proxies, with ``path`` the request path without ``/api`` (``/flow_runs/filter``), as the ASGI server
decoded it. The answer is one ``Decision``: allowed or not, the Chinese sentence shown to the person
when not, and the ``kind`` of request when the gateway must do more than pass it on:

- ``answer`` (``POST /flow_runs/{id}/resume``): a person's answer to a form (审核单, 修改单 …); the
  gateway asks gongwen whether this person may answer this form now, puts the person in and stamps it.
- ``start`` (``POST /deployments/{id}/create_flow_run``): a run of a deployment (拟稿 and the others);
  the gateway looks up which deployment and asks ``decide_start`` whether this person may start it.
- ``read_input`` (``GET /flow_runs/{id}/input/{key}`` with a form's key): the form's schema and
  description, or gongwen's outcome of an answer (``outcome-<key>``); never an answer itself.
- ``empty`` (``POST /block_documents/filter``, for all but operators), on a refusal: not passed on, but
  answered by the gateway with an empty list instead of 403: the event feed's resource picker asks for
  the block documents, which a person may not read (the request body may ask for their secrets), and a
  403 there shows an error. Refused, so that a gateway that ignores the kind still passes nothing on.

The rules, one table (``ROUTES``), each route a class of ``Access``:

- every signed-in person (staff, auditors included) reads what the UI's pages of flows, runs, task runs,
  logs, artifacts, events, automations and the work pools show, and the UI's own settings, health and version;
  all of it is gongwen's: the server runs gongwen's flows only;
- every signed-in person answers forms but the read-only (auditors who hold no other role: they "can
  change nothing"); who may start what is ``decide_start``'s rule (gongwen's own deployments;
  audit-retrieve only for auditors);
- operators (运维) get the whole API; for everyone else, any route not in the table is refused
  (default deny): blocks, variables and concurrency limits, reads too (a block read may ask for its
  secrets in the body: ``include_secrets``; the block documents filter is answered empty); deployment, work-pool, work-queue and automation writes;
  the flow-run input filter and every input key that is not a form's (an answer ``*-response`` holds
  what the person typed), input writes; deletes; ``set_state`` (cancel, retry); runs not started from
  a deployment (``POST /flow_runs/``); task-run, log, artifact and event writes; ``/admin`` but the
  version and settings; the routes that move work (``get_scheduled_flow_runs``, ``get_runs``, workers).

Flow-run processes and workers talk to Prefect directly with its auth string, not through the
gateway: their writes need no rule here. docs/prefect-routes.md lists the UI's calls per page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from models.vocabulary import Role


class Kind(StrEnum):
    """What an allowed request is, when the gateway must do more than pass it on."""

    ANSWER = "answer"  # 答复表单: resume a suspended run with the person's answer
    START = "start"  # 发起: create a run of a deployment
    READ_INPUT = "read_input"  # 读表单: a form's schema or description, or an answer's outcome
    EMPTY = "empty"  # 不予显示: refused, and the gateway answers an empty list instead of 403


ANSWER, START, READ_INPUT, EMPTY = Kind.ANSWER, Kind.START, Kind.READ_INPUT, Kind.EMPTY


class Access(StrEnum):
    """The class of a route in ``ROUTES``: who passes (anything else: operators only)."""

    READ = "查阅"  # every signed-in person
    FORM = "读表单"  # every signed-in person, for a form's keys only (``form_key``)
    ANSWER = "答复"  # every signed-in person but the read-only
    START = "发起"  # every signed-in person; which deployment is decide_start's rule
    HIDDEN = "不予显示"  # refused but to operators, answered with an empty list


OPERATORS_ONLY = "该操作仅限运维人员"
READ_ONLY = "审计人员只能查阅，不能答复表单"
BAD_PATH = "请求路径不合规"


@dataclass(frozen=True)
class Decision:
    """The policy's answer for one request; ``reason`` is shown to the person when refused."""

    allowed: bool
    reason: str | None = None
    kind: Kind | None = None


_R, _F = Access.READ, Access.FORM

#: (method, path template, access). ``{id}`` is a UUID, any other ``{name}`` one path segment;
#: a websocket is its handshake, ``GET``. Derived from the calls of both Prefect 3.9 UIs (V1 and
#: the default V2) on the pages staff use, and gongwen's command line (docs/prefect-routes.md).
ROUTES: tuple[tuple[str, str, Access], ...] = (
    # the UI starting up: its checks of the server (``/ui-settings`` is outside /api: the gateway's own)
    ("GET", "/health", _R),
    ("GET", "/version", _R),
    ("GET", "/admin/version", _R),
    ("GET", "/admin/settings", _R),  # both UIs read it on every page; Prefect obfuscates its secrets
    ("GET", "/csrf-token", _R),
    # flows and their deployments
    ("POST", "/flows/filter", _R),
    ("POST", "/flows/count", _R),
    ("POST", "/flows/paginate", _R),
    ("GET", "/flows/{id}", _R),
    ("GET", "/flows/name/{name}", _R),
    ("POST", "/ui/flows/count-deployments", _R),
    ("POST", "/ui/flows/next-runs", _R),
    ("POST", "/deployments/filter", _R),
    ("POST", "/deployments/count", _R),
    ("POST", "/deployments/paginate", _R),
    ("GET", "/deployments/{id}", _R),
    ("GET", "/deployments/name/{flow}/{deployment}", _R),
    ("GET", "/deployments/{id}/schedules", _R),
    ("POST", "/automations/filter", _R),  # the events page's resource picker, the automations list
    ("POST", "/automations/count", _R),
    ("GET", "/automations/{id}", _R),
    ("GET", "/automations/related-to/{resource}", _R),  # the automations a deployment's page lists
    ("POST", "/deployments/{id}/create_flow_run", Access.START),
    ("POST", "/ui/schemas/validate", _R),  # the Run and Resume forms check their values with it
    # flow runs: lists, the run page (graph, states, sub-runs), its forms
    ("POST", "/flow_runs/filter", _R),
    ("POST", "/flow_runs/count", _R),
    ("POST", "/flow_runs/paginate", _R),
    ("POST", "/flow_runs/history", _R),
    ("POST", "/flow_runs/lateness", _R),
    ("POST", "/ui/flow_runs/history", _R),
    ("POST", "/ui/flow_runs/count-task-runs", _R),
    ("GET", "/flow_runs/{id}", _R),
    ("GET", "/flow_runs/{id}/graph", _R),
    ("GET", "/flow_runs/{id}/graph-v2", _R),
    ("GET", "/flow_runs/{id}/logs/download", _R),
    ("GET", "/flow_run_states", _R),
    ("GET", "/flow_run_states/{id}", _R),
    ("GET", "/observed-states", _R),
    ("GET", "/flow_runs/{id}/input/{key}", _F),
    ("POST", "/flow_runs/{id}/resume", Access.ANSWER),
    # task runs
    ("POST", "/task_runs/filter", _R),
    ("POST", "/task_runs/count", _R),
    ("POST", "/task_runs/paginate", _R),
    ("POST", "/task_runs/history", _R),
    ("POST", "/ui/task_runs/count", _R),
    ("POST", "/ui/task_runs/dashboard/counts", _R),
    ("GET", "/task_runs/{id}", _R),
    ("GET", "/ui/task_runs/{id}", _R),
    ("GET", "/task_run_states", _R),
    ("GET", "/task_run_states/{id}", _R),
    # logs, artifacts, events (the websockets stream what the filters return)
    ("POST", "/logs/filter", _R),
    ("GET", "/logs/out", _R),
    ("POST", "/artifacts/filter", _R),
    ("POST", "/artifacts/count", _R),
    ("POST", "/artifacts/latest/filter", _R),
    ("POST", "/artifacts/latest/count", _R),
    ("GET", "/artifacts/{id}", _R),
    ("GET", "/artifacts/{key}/latest", _R),
    ("POST", "/events/filter", _R),
    ("GET", "/events/filter/next", _R),
    ("POST", "/events/count-by/{countable}", _R),
    ("GET", "/events/out", _R),
    ("POST", "/block_documents/filter", Access.HIDDEN),  # the event feed's resource picker
    # work pools and queues as the run and deployment pages name them
    ("POST", "/work_pools/filter", _R),
    ("POST", "/work_pools/count", _R),
    ("GET", "/work_pools/{name}", _R),
    ("POST", "/work_pools/{name}/queues/filter", _R),
    ("GET", "/work_pools/{name}/queues/{queue}", _R),
    ("POST", "/work_pools/{name}/workers/filter", _R),
    ("POST", "/work_queues/filter", _R),
    ("GET", "/work_queues/{id}", _R),
    ("GET", "/work_queues/name/{name}", _R),
    ("GET", "/work_queues/{id}/status", _R),
    # the runs page's saved filters (reading them; saving one is an operator's)
    ("POST", "/saved_searches/filter", _R),
    ("GET", "/saved_searches/{id}", _R),
)

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


def _pattern(template: str) -> re.Pattern[str]:
    """A path template's regular expression: ``{id}`` a UUID, any other ``{name}`` one segment."""
    parts = re.split(r"(\{\w+\})", template)
    regex = "".join(
        (_UUID if part == "{id}" else "[^/]+") if part.startswith("{") else re.escape(part) for part in parts
    )
    return re.compile(f"{regex}/?")


_TABLE = tuple((method, _pattern(template), access) for method, template, access in ROUTES)

#: A form's run-input keys (prefect.input.run_input: ``<state>-<pause key>-schema|description``,
#: the state Suspended or Paused) and gongwen's ``outcome-<key>`` (flows.lifecycle); never an
#: answer (``…-response``), which holds what the person typed.
_FORM_KEY = re.compile(r"(?!.*-response(?:-|$))(?:(?:suspended|paused)-.+-(?:schema|description)|outcome-.+)")


def form_key(key: str) -> bool:
    """Whether run input ``key`` is one the UI's Resume form or gongwen's client reads."""
    return _FORM_KEY.fullmatch(key) is not None


def read_only(roles: frozenset[Role]) -> bool:
    """审计人员 who hold no other role: they read and run audit-retrieve, and change nothing."""
    return Role.AUDITOR in roles and roles <= {Role.AUDITOR}


def _sound(path: str) -> bool:
    """An absolute path without empty, ``.`` or ``..`` segments (a proxy could fold those away)."""
    segments = path.rstrip("/").split("/")
    return path.startswith("/") and all(segment not in ("", ".", "..") for segment in segments[1:])


def decide(roles: frozenset[Role], method: str, path: str) -> Decision:
    """Whether a person with ``roles`` may make this Prefect API request (path without ``/api``)."""
    if not _sound(path):
        return Decision(False, BAD_PATH)
    access = _access(method.upper(), path)
    kind = _KINDS.get(access) if access else None
    if Role.OPERATOR in roles:
        return Decision(True, kind=None if kind is Kind.EMPTY else kind)
    if access in (None, Access.HIDDEN):
        return Decision(False, OPERATORS_ONLY, kind)
    if access is Access.ANSWER and read_only(roles):
        return Decision(False, READ_ONLY)
    return Decision(True, kind=kind)


_KINDS = {
    Access.ANSWER: Kind.ANSWER,
    Access.START: Kind.START,
    Access.FORM: Kind.READ_INPUT,
    Access.HIDDEN: Kind.EMPTY,
}


def _access(method: str, path: str) -> Access | None:
    """The access class of the table's route this request is, or None (not in the table, or an input
    key that is not a form's)."""
    method = "GET" if method == "HEAD" else method
    for route_method, pattern, access in _TABLE:
        if route_method == method and pattern.fullmatch(path):
            if access is Access.FORM and not form_key(path.rstrip("/").rsplit("/", 1)[1]):
                return None
            return access
    return None


AUDIT_ONLY = "审计人员只能发起档案检索（audit-retrieve）"
AUDITORS_ONLY = "档案检索（audit-retrieve）仅限审计人员发起"
NOT_OURS = "只能发起公文系统自己的流程"


def decide_start(roles: frozenset[Role], deployment: str, *, ours: frozenset[str], audit_retrieve: str) -> Decision:
    """Whether a person may start ``deployment`` ("flow/deployment", the gateway looks it up by id).

    Operators start anything; auditors start audit-retrieve (``audit_retrieve``), and the read-only
    nothing else; everyone else starts gongwen's own deployments (``ours``) but audit-retrieve.
    """
    if Role.OPERATOR in roles:
        return Decision(True, kind=Kind.START)
    if deployment == audit_retrieve:
        return Decision(True, kind=Kind.START) if Role.AUDITOR in roles else Decision(False, AUDITORS_ONLY)
    if read_only(roles):
        return Decision(False, AUDIT_ONLY)
    if deployment not in ours:
        return Decision(False, NOT_OURS)
    return Decision(True, kind=Kind.START)
