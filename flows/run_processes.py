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
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import multiprocessing.forkserver
import types

#: What the forkserver imports before it forks a run: Prefect's engine and every flow gongwen serves.
PRELOADED_MODULES = ("prefect.flow_engine", "flows.deployments")


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
