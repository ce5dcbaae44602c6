"""Served flow runs start as forks of a forkserver that has already imported Prefect and the flows."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A main script, as ``gongwen server`` is, whose one import (as gongwen.cli is) counts how often it is
# imported. The change is process-wide, as in ``gongwen server``, so it runs in a process of its own.
SCRIPT = textwrap.dedent(
    """
    import json, os, sys
    sys.path.insert(0, {root!r})
    import serving_cli

    if __name__ == "__main__":
        import prefect.flow_engine
        from flows.run_processes import start_flow_runs_from_forkserver
        from tests.flows.run_process_probe import report_imports

        start_flow_runs_from_forkserver(main_imports=("serving_cli",))
        context = prefect.flow_engine.multiprocessing.get_context("spawn")
        answers = context.SimpleQueue()
        runs = [context.Process(target=report_imports, args=(answers,)) for _ in range(3)]
        for run in runs:
            run.start()
        imported = [answers.get() for _ in runs]
        for run in runs:
            run.join(60)
        print(json.dumps({{
            "processes": sorted({{type(run).__name__ for run in runs}}),
            "exitcodes": [run.exitcode for run in runs],
            "pids": len({{run.pid for run in runs}} - {{os.getpid()}}),
            "imported_before_the_run": imported,
            "other_methods_untouched": type(prefect.flow_engine.multiprocessing.get_context("fork")).__name__,
        }}))
    """
)
COUNTED = 'import os\nwith open("imports", "a") as count:\n    count.write(f"{os.getpid()}\\n")\n'


def test_runs_are_forks_of_a_forkserver_that_imported_everything_once(tmp_path):
    (tmp_path / "serving.py").write_text(SCRIPT.format(root=str(ROOT)))
    (tmp_path / "serving_cli.py").write_text(COUNTED)
    done = subprocess.run([sys.executable, "serving.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["processes"] == ["ForkServerProcess"]
    assert seen["exitcodes"] == [0, 0, 0] and seen["pids"] == 3
    preloaded = {"flows.deployments": True, "flows.forked_runs": True, "prefect.flow_engine": True}
    assert seen["imported_before_the_run"] == [preloaded] * 3
    assert seen["other_methods_untouched"] == "ForkContext"
    # imported by the serving process and once by the forkserver; the runs find it done
    assert len((tmp_path / "imports").read_text().split()) == 2


def test_every_served_flow_keeps_its_parameter_types_when_sent_to_its_run_process():
    """The runner sends the flow to the run's process with cloudpickle, by value: its function keeps
    only the globals its code uses, so a parameter type written as a string (``from __future__ import
    annotations``) would no longer resolve there, and every run of that deployment would fail before
    it starts ("… is not fully defined")."""
    import typing

    import cloudpickle

    from flows.deployments import served_flows

    for served in served_flows():
        sent = cloudpickle.loads(cloudpickle.dumps(served.flow))
        assert typing.get_type_hints(sent.fn) == typing.get_type_hints(served.flow.fn), served.flow.name
        assert sent.parameters.model_dump() == served.flow.parameters.model_dump(), served.flow.name
