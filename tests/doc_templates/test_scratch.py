"""Temporary folders of 印制: those of a process that died are removed by the next one, no others."""

from __future__ import annotations

import os
import subprocess
import sys

from doc_templates import scratch


def test_the_folders_of_a_process_that_died_are_removed_and_no_others(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    abandoned = [tmp_path / f"gongwen-{use}-{dead.stdout.strip()}-x1y2" for use in ("print", "lo", "pdf")]
    kept = [tmp_path / f"gongwen-lo-{os.getpid()}-a1b2", tmp_path / "gongwen-lo-k3j4", tmp_path / "other-1-2"]
    for folder in abandoned + kept:
        (folder / "profile").mkdir(parents=True)
        (folder / "profile" / "registrymodifications.xcu").write_text("<x/>")
    assert sorted(scratch.remove_abandoned(tmp_path)) == sorted(abandoned)
    assert sorted(tmp_path.iterdir()) == sorted(kept)


def test_a_temporary_folder_is_named_after_its_process_and_removed_at_the_end():
    with scratch.temporary_folder("print") as folder:
        assert folder.name.startswith(f"gongwen-print-{os.getpid()}-") and folder.is_dir()
    assert not folder.exists()
