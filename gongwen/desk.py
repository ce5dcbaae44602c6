"""The staff's side of the Prefect API: start a lifecycle run, read the form it waits on, answer it.

``gongwen submit`` and ``gongwen decide`` go through here when a Prefect server
is configured (``PREFECT_API_URL``), and the demo plays every person with it —
the same calls the UI makes: create a run of a deployment, read a suspended
run's form (its JSON schema and description), resume it with the answer, and
wait until the run has dealt with it (suspended again on the next form, or
finished).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from models.errors import InputError, RefusedDecision, ServiceUnavailable, StillWaiting


@dataclass(frozen=True)
class WaitingForm:
    """The form a suspended run shows: its key, JSON schema and description."""

    key: str
    schema: dict[str, Any]
    description: str


class Desk:
    """A Prefect API client for the people who work on documents."""

    def __init__(
        self, api_url: str, *, timeout: float = 120.0, auth_string: str | None = None, api_key: str | None = None
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.auth_string = auth_string  # the Prefect server's, for a client on its machine; else the setting
        self.api_key = api_key  # a 门户 session token (the person's desk); else PREFECT_API_KEY
        self._local = threading.local()

    def _client(self):
        """This thread's client of the server, opened on first use and kept: opening one costs tens of
        milliseconds of CPU, more than most calls (a person's desk polls while a run works)."""
        client = getattr(self._local, "client", None)
        if client is None:
            from prefect.client.orchestration import SyncPrefectClient
            from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_KEY

            token = self.api_key or PREFECT_API_KEY.value()
            client = SyncPrefectClient(
                self.api_url,
                # a person's desk carries their token only, never the server's auth string
                auth_string=None if token else self.auth_string or PREFECT_API_AUTH_STRING.value(),
                api_key=token,
            )
            client.__enter__()
            self._local.client = client
        return client

    def close(self) -> None:
        """Close this thread's client (another call opens a new one)."""
        client = getattr(self._local, "client", None)
        self._local.client = None
        if client is not None:
            client.__exit__(None, None, None)

    def _call(self, work):
        """Run ``work(client)`` against this desk's server; an unreachable server is ServiceUnavailable, a
        refusal of the 门户 (401, 403) RefusedDecision with its reason and field."""
        import httpx
        from prefect.exceptions import ObjectNotFound

        try:
            return work(self._client())
        except httpx.HTTPStatusError as error:
            if error.response.status_code not in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
                raise
            refusal = _json(error.response.text or "{}") or {}
            raise RefusedDecision(refusal.get("detail") or "门户拒绝了该请求", refusal.get("field") or "as") from None
        except (OSError, httpx.TransportError) as error:
            self.close()  # a new connection next time
            raise ServiceUnavailable(f"无法连接 Prefect 服务器 {self.api_url}：{error}") from None
        except ObjectNotFound:  # a server that does not serve gongwen's deployments (or has lost the run)
            raise ServiceUnavailable(
                f"Prefect 服务器 {self.api_url} 上没有所需的部署或流程运行（是否由 gongwen server 启动？）"
            ) from None

    def whoami(self) -> str:
        """The name of the person this desk's token signed in (``GET /gateway/whoami`` at the 门户)."""
        return self._call(lambda client: _json(client._client.get(self._gateway("whoami")).raise_for_status().text))[
            "name"
        ]

    def _gateway(self, route: str) -> str:
        return self.api_url.removesuffix("/api") + f"/gateway/{route}"

    def deployment(self, name: str) -> str:
        """The id of a deployment the server serves (ServiceUnavailable if the server cannot be reached)."""
        return str(self._call(lambda client: client.read_deployment_by_name(name)).id)

    def run_deployment(self, name: str, parameters: dict[str, Any]) -> str:
        """Create a run of a deployment (as the UI's Run button does); its id."""

        def create(client):
            deployment = client.read_deployment_by_name(name)
            return str(client.create_flow_run_from_deployment(deployment.id, parameters=parameters).id)

        return self._call(create)

    def state(self, run_id: str):
        return self._call(lambda client: client.read_flow_run(UUID(run_id)).state)

    def wait(self, run_id: str, *, after_key: str | None = None):
        """Wait until the run waits on a form other than ``after_key``, or has finished; its state."""

        def settled():
            state = self.state(run_id)
            moved = state.is_paused() and state.state_details.pause_key != after_key
            return state if state.is_final() or moved else None

        return _poll(settled, self.timeout, f"流程运行 {run_id} 处理完毕（请在 Prefect 界面查看）")

    def form(self, run_id: str) -> WaitingForm:
        """The form the run waits on now."""
        from prefect.input.run_input import keyset_from_paused_state

        def read(client):
            state = client.read_flow_run(UUID(run_id)).state
            if not state.is_paused():
                raise InputError(f"流程运行当前为「{state.name}」，没有等待填写的表单", "DOC")
            keyset = keyset_from_paused_state(state)
            schema = client.read_flow_run_input(UUID(run_id), keyset["schema"])
            description = client.read_flow_run_input(UUID(run_id), keyset["description"])
            return WaitingForm(state.state_details.pause_key, _json(schema), _json(description) or "")

        return self._call(read)

    def answer(self, run_id: str, values: dict[str, Any]) -> None:
        """Resume the run with a form's answer; the server checks it against the form's schema."""
        from prefect.client.schemas.responses import SetStateStatus

        def resume(client):
            result = client.resume_flow_run(UUID(run_id), run_input=values)
            if result.status != SetStateStatus.ACCEPT:
                reason = getattr(result.details, "reason", "") or str(result.status)
                raise InputError(f"表单内容未被接受：{reason}", "form")

        self._call(resume)

    def outcome(self, run_id: str, key: str) -> dict[str, Any]:
        """Wait for the outcome the run publishes once it has applied the answer to form ``key``
        (flows.lifecycle: ``outcome-<key>``, accepted or refused with the error); that record."""
        import httpx

        def published():
            try:
                return _json(self._call(lambda client: client.read_flow_run_input(UUID(run_id), f"outcome-{key}")))
            except httpx.HTTPStatusError as error:
                if error.response.status_code != httpx.codes.NOT_FOUND:
                    raise
            state = self.state(run_id)
            if state.is_final():  # stopped without applying the answer (crashed, the database down …)
                raise ServiceUnavailable(
                    f"流程运行 {run_id} 未处理所填表单即已停止（{state.name} {state.message or ''}）；"
                    "请执行 gongwen resume 后重新填写"
                )
            return None

        return _poll(published, self.timeout, f"流程运行 {run_id} 处理所填表单")

    def cancel(self, run_id: str, why: str) -> None:
        """End a run whose document no longer waits on it (撤销 while it waited on a 审核单)."""
        from prefect.states import Cancelled

        self._call(lambda client: client.set_flow_run_state(UUID(run_id), Cancelled(message=why), force=True))

    def reschedule(self, run_id: str) -> None:
        """Put a run that stopped without finishing (its process crashed or was killed) back in the queue:
        it runs again from the top, its persisted results and answers replayed."""
        from prefect.states import Scheduled

        self._call(lambda client: client.set_flow_run_state(UUID(run_id), Scheduled(name="继续办理"), force=True))

    def finished(self, run_id: str, *, failed_ok: bool = False) -> Any:
        """Wait for the run to finish; its result (or, with ``failed_ok``, the failure's message)."""
        state = _poll(lambda: (s := self.state(run_id)).is_final() and s, self.timeout, f"流程运行 {run_id} 结束")
        if state.is_completed():
            from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

            through = {PREFECT_API_URL: self.api_url} | (
                {PREFECT_API_AUTH_STRING: self.auth_string} if self.auth_string else {}
            )
            with temporary_settings(through):  # the result is read through this server
                return self._call(lambda client: client.read_flow_run(UUID(run_id)).state.result())
        if failed_ok:
            return state.message
        raise ServiceUnavailable(f"流程运行 {run_id} 未成功：{state.name} {state.message or ''}")

    def wait_for_deployments(self, names: tuple[str, ...], *, alive=lambda: True) -> bool:
        """Wait until every named deployment exists (the server is serving them); False as soon as
        ``alive`` says the serving process has gone."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if not alive():
                return False
            try:
                self._call(lambda client: [client.read_deployment_by_name(name) for name in names])
                return True
            except Exception:  # noqa: BLE001 - not there yet: the server is starting or not yet serving
                time.sleep(0.5)
        raise ServiceUnavailable(f"{self.timeout:.0f} 秒内部署未就绪：{self.api_url}")

    def triggered_run(self, deployment: str, parameters: dict[str, Any]) -> str:
        """The id of the latest run of a deployment with these parameters, once one exists (a run an
        event trigger started)."""
        from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId
        from prefect.client.schemas.sorting import FlowRunSort

        def latest(client):
            found = client.read_deployment_by_name(deployment)
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id])),
                sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            )
            matching = [run for run in runs if parameters.items() <= run.parameters.items()]
            return str(matching[0].id) if matching else None

        return _poll(lambda: self._call(latest), self.timeout, f"{deployment} 的运行")


#: Polling a run: the first look after a quarter second, then half as long again each time, up to a second.
POLL_FIRST, POLL_GROWTH, POLL_MOST = 0.25, 1.5, 1.0


def _poll(condition, timeout: float, what: str) -> Any:
    """Call ``condition`` until it returns something truthy; that value."""
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(pause)
        pause = min(pause * POLL_GROWTH, POLL_MOST)
    raise StillWaiting(f"{timeout:.0f} 秒内未等到：{what}")


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else value
