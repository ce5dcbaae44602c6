"""How ``gongwen server`` starts the process of each served flow run: forked from a process that has
already imported Prefect and gongwen's flows.

Prefect's runner starts every flow run (a new 送审, each resume after 核稿 or 签发, each 核发 the issued
event triggers) in a fresh interpreter (``multiprocessing`` "spawn"), which spends ≈ 2 CPU-seconds
importing Prefect and gongwen before the run does anything. A forkserver imports them once; each flow
run is then a fork of it that begins at once. Each run still gets a process of its own, as with spawn:
a crash or a kill -9 of one run harms no other, and nothing of the serving process (its threads, its
event loop, its connections) is inherited, because the forkserver is a single-threaded process started
before any run.

Prefect asks ``multiprocessing`` for the "spawn" context in ``prefect.flow_engine.run_flow_in_subprocess``
and passes the run its environment and settings explicitly, so the serving process changes only which
context that lookup returns.

Prefect sends the flow itself to the run's process with cloudpickle, by value: the function keeps only
the globals its code uses. A flow's parameter types must therefore be objects when its module loads —
a module defining a flow with parameter types of its own does not use ``from __future__ import
annotations``, or Prefect could not build the run's parameter model there.

Each run starts the moment the Prefect server schedules it (``serve``): a new run (送审, a Run form,
the issued event's 核发), a run resumed by an answer on its form (the UI's Resume, ``gongwen decide``)
and a run put back by ``gongwen resume`` all become SCHEDULED, and the server announces each state
change on its event stream; Prefect's Runner itself only finds scheduled runs by polling
(``PREFECT_RUNNER_POLL_FREQUENCY``, whole seconds), which stays as the fallback.

Every Prefect API client of a run's process verifies TLS with the one SSL context the forkserver
loaded before it forked (``share_one_ssl_context``): Prefect builds a client for each thread and event
loop of a run (the engine's, its suspension observer's, the event and log workers'), and each built
its own context from the CA bundle, ≈ 30 ms apiece.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import ssl
import types
from collections.abc import Collection
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient
    from prefect.runner import Runner

#: What the forkserver imports before it forks a run: Prefect's engine, every flow gongwen serves, and
#: this module's setup of the runs' processes (flows.forked_runs).
PRELOADED_MODULES = ("prefect.flow_engine", "flows.deployments", "flows.forked_runs")

#: After a run is announced and the runner has polled, how long to wait before each look whether the
#: run is still waiting: the announcement can reach this process before the server's transaction that
#: scheduled the run has committed, so the first poll may not see it yet.
LOOK_AGAIN_SECONDS = (0.05, 0.1, 0.2, 0.4)


def start_flow_runs_from_forkserver(main_imports: tuple[str, ...] = ()) -> multiprocessing.context.BaseContext:
    """Make the flow runs this process serves start as forks of a preloaded forkserver; the context.

    ``main_imports`` are what the serving process's main script imports: multiprocessing runs that
    script again in every child (as ``__mp_main__``), so the forkserver imports them too, and that
    run finds them done."""
    import prefect.flow_engine

    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload([*main_imports, *PRELOADED_MODULES])
    multiprocessing.forkserver.ensure_running()  # the first run finds the imports done too

    def context(method: str) -> multiprocessing.context.BaseContext:
        return forkserver if method == "spawn" else multiprocessing.get_context(method)

    prefect.flow_engine.multiprocessing = types.SimpleNamespace(get_context=context, context=multiprocessing.context)
    return forkserver


def share_one_ssl_context() -> ssl.SSLContext:
    """Make every Prefect API client of this process, and of the processes forked from it, verify TLS
    with one SSL context per CA bundle, loaded now; that context.

    Prefect builds a fresh context from its CA bundle (``PREFECT_API_SSL_CERT_FILE``, else certifi's)
    for each client it constructs (prefect.client.orchestration, and its server version check). Those
    two modules are given an ``ssl`` whose ``create_default_context`` returns, for a CA file, the context
    already loaded from it; any other call (no CA file: Prefect's insecure mode, which changes the
    context it gets) still builds a new one. Verification is unchanged: the same CA file, the same
    defaults."""
    import prefect._internal.version_checking
    import prefect.client.orchestration
    from prefect.settings import PREFECT_API_SSL_CERT_FILE

    loaded = functools.cache(lambda cafile: ssl.create_default_context(cafile=cafile))

    def create_default_context(purpose=ssl.Purpose.SERVER_AUTH, *, cafile=None, capath=None, cadata=None):
        if cafile and purpose is ssl.Purpose.SERVER_AUTH and capath is None and cadata is None:
            return loaded(cafile)
        return ssl.create_default_context(purpose, cafile=cafile, capath=capath, cadata=cadata)

    shared = types.ModuleType("ssl", ssl.__doc__)
    shared.__dict__.update({**vars(ssl), "create_default_context": create_default_context})
    for module in (prefect.client.orchestration, prefect._internal.version_checking):
        module.ssl = shared
    import certifi

    return loaded(PREFECT_API_SSL_CERT_FILE.value() or certifi.where())


async def serve(runner: Runner, deployment_ids: Collection[UUID]) -> None:
    """Run ``runner`` until it stops, starting each run of ``deployment_ids`` as soon as the Prefect
    server schedules it (``PromptStart``) rather than at the runner's next poll."""
    prompt = PromptStart(runner, deployment_ids)
    watching = asyncio.ensure_future(prompt.watch())
    try:
        await runner.start()
    finally:
        watching.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watching


class PromptStart:
    """Has the runner poll the moment the server announces a run of its deployments as SCHEDULED.

    The server announces every state change of a flow run as the event ``prefect.flow-run.<state
    name>``, labelled with the state's type and related to the run's deployment. On each such event
    for a SCHEDULED state the runner polls at once, as its own loop would a second later; bursts of
    announcements make one poll. Each announced run that is due and still SCHEDULED after the poll is
    looked at again after LOOK_AGAIN_SECONDS (then the runner's own poll takes over). A poll only takes
    runs still SCHEDULED and the runner proposes PENDING before it starts one, so a run announced
    twice, or found by this poll and the runner's own, starts once. While the event stream is down
    (the server restarting) the runner's own poll carries on alone."""

    def __init__(self, runner: Runner, deployment_ids: Collection[UUID]) -> None:
        from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter, EventResourceFilter
        from prefect.events.schemas.events import ResourceSpecification
        from prefect.logging import get_logger

        self.runner = runner
        self.filter = EventFilter(
            event=EventNameFilter(prefix=["prefect.flow-run."]),
            resource=EventResourceFilter(labels=ResourceSpecification({"prefect.state-type": "SCHEDULED"})),
            related=EventRelatedFilter(id=[f"prefect.deployment.{id}" for id in deployment_ids]),
        )
        self.announced: set[UUID] = set()
        self.wanted = asyncio.Event()
        self.logger = get_logger("gongwen.prompt_start")

    async def watch(self) -> None:
        """Listen and poll until cancelled (once the runner has started)."""
        from prefect.client.orchestration import get_client

        while not self.runner.started:
            await asyncio.sleep(0.05)
        async with get_client() as client, asyncio.TaskGroup() as group:
            group.create_task(self._listen())
            group.create_task(self._start(client))

    async def _listen(self) -> None:
        from prefect.events.clients import get_events_subscriber

        while True:
            try:
                async with get_events_subscriber(filter=self.filter, reconnect_on_clean_close=True) as events:
                    async for event in events:
                        self.announced.add(UUID(event.resource.id.removeprefix("prefect.flow-run.")))
                        self.wanted.set()
            except Exception as error:  # noqa: BLE001 - the stream is down; the runner's own poll carries on
                self.logger.warning("流程运行调度事件流中断（%s），改由定时查询启动运行", error)
                await asyncio.sleep(self.runner.query_seconds)

    async def _start(self, client: PrefectClient) -> None:
        while True:
            await self.wanted.wait()
            waiting: set[UUID] = set()
            pauses = iter(LOOK_AGAIN_SECONDS)
            while self.wanted.is_set() or waiting:
                self.wanted.clear()
                waiting |= self.announced
                self.announced.clear()
                await self.runner._get_and_submit_flow_runs()  # the poll of the runner's own loop
                waiting = await self._still_scheduled(client, waiting)
                if not waiting:
                    continue
                pause = next(pauses, None)
                if pause is None:
                    break  # left to the runner's own poll
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wanted.wait(), pause)

    @staticmethod
    async def _still_scheduled(client: PrefectClient, runs: set[UUID]) -> set[UUID]:
        """Those of ``runs`` that are due and still SCHEDULED."""
        if not runs:
            return runs
        from prefect.client.schemas.filters import (
            FlowRunFilter,
            FlowRunFilterId,
            FlowRunFilterNextScheduledStartTime,
            FlowRunFilterState,
            FlowRunFilterStateType,
        )
        from prefect.client.schemas.objects import StateType

        found = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=list(runs)),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                next_scheduled_start_time=FlowRunFilterNextScheduledStartTime(
                    before_=datetime.datetime.now(datetime.UTC)
                ),
            )
        )
        return {run.id for run in found}
