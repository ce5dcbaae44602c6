"""Temporary folders of 印制: the .docx being converted, LibreOffice's profile, its PDF output.

Each is named ``gongwen-<use>-<pid>-<random>`` after the process that made it. A
process killed in the middle of printing (kill -9, the OOM killer) cannot remove
its folders, and LibreOffice profiles weigh megabytes: whichever process makes
the next folder removes those of processes that no longer run.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from models.processes import running

_OWNER = re.compile(r"gongwen-[a-z]+-(\d+)-")


def remove_abandoned(root: Path | None = None) -> list[Path]:
    """Remove the printing folders under ``root`` (the system's temporary folder) whose process has gone."""
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob("gongwen-*-*-*"):
        owner = _OWNER.match(folder.name)
        if owner and not running(int(owner.group(1))):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def new_folder(use: str) -> Path:
    """A new temporary folder for ``use`` (``print``, ``lo``, ``pdf``), abandoned ones removed first."""
    remove_abandoned()
    return Path(tempfile.mkdtemp(prefix=f"gongwen-{use}-{os.getpid()}-"))


@contextmanager
def temporary_folder(use: str) -> Iterator[Path]:
    """``new_folder(use)``, removed at the end of the block."""
    folder = new_folder(use)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
