"""The target of a probe run: which modules were already imported when the run's process began."""

from __future__ import annotations

import sys

from flows.run_processes import PRELOADED_MODULES


def report_imports(answers) -> None:
    """Put ``{module: imported?}`` for each module the forkserver is meant to preload."""
    answers.put({name: name in sys.modules for name in PRELOADED_MODULES})
