"""Served flow runs start as forks of a forkserver that has already imported Prefect and the flows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a process of its own: the change is process-wide, as it is in ``gongwen server``.
SCRIPT = textwrap.dedent(
    """
    import json, multiprocessing, sys
    import prefect.flow_engine
    from flows.run_processes import start_flow_runs_from_forkserver
    from tests.flows.run_process_probe import report_imports

    start_flow_runs_from_forkserver()
    context = prefect.flow_engine.multiprocessing.get_context("spawn")
    answers = context.SimpleQueue()
    process = context.Process(target=report_imports, args=(answers,))
    process.start()
    imported = answers.get()
    process.join(60)
    print(json.dumps({
        "process": type(process).__name__,
        "exitcode": process.exitcode,
        "imported_before_the_run": imported,
        "other_methods_untouched": type(prefect.flow_engine.multiprocessing.get_context("fork")).__name__,
        "pid_differs": process.pid != multiprocessing.current_process().pid,
    }))
    """
)


def test_the_run_process_is_a_fork_of_a_preloaded_forkserver():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["process"] == "ForkServerProcess"
    assert seen["exitcode"] == 0
    assert seen["imported_before_the_run"] == {"flows.deployments": True, "prefect.flow_engine": True}
    assert seen["other_methods_untouched"] == "ForkContext"
    assert seen["pid_differs"]
