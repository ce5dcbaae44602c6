"""Whether a process still runs: what a process killed in the middle of a write left behind (a staged
archive version, a printing folder) is removed by the next one, never what a running one is using."""

from __future__ import annotations

import os


def running(pid: int) -> bool:
    """True while process ``pid`` exists (also when it belongs to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
