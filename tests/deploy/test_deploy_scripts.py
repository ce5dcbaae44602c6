"""The shell scripts of deploy/ parse under a POSIX sh, and minio/init.sh drives mc as the README
says — run with a stand-in ``mc`` that records its calls (there is no MinIO server here), twice,
as every ``docker compose up`` does. (postgres/init-databases.sh runs for real in test_work_pool.py.)"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.deploy_files import DEPLOY

SCRIPTS = [DEPLOY / "minio" / "init.sh", DEPLOY / "postgres" / "init-databases.sh"]
ENV = {
    "MINIO_URL": "http://minio:9000",
    "MINIO_ROOT_USER": "root",
    "MINIO_ROOT_PASSWORD": "root-secret",
    "GONGWEN_S3_BUCKET": "gongwen",
    "GONGWEN_S3_ACCESS_KEY": "gongwen-app",
    "GONGWEN_S3_SECRET_KEY": "app-secret",
    "MINIO_AUDITOR_USER": "auditor",
    "MINIO_AUDITOR_PASSWORD": "auditor-secret",
}
#: A stand-in for mc: records each call; a policy attached twice fails as MinIO answers.
FAKE_MC = """#!/bin/sh
echo "$*" >> "$MC_CALLS"
case "$*" in
  "admin policy attach "*)
    mark="$MC_CALLS.$(echo "$*" | tr -c 'a-z0-9' _)"
    if [ -e "$mark" ]; then
      echo "mc: <ERROR> Unable to make user/group policy association. The specified policy change is already in effect." >&2
      exit 1
    fi
    touch "$mark" ;;
esac
"""


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_are_posix_sh_and_executable(script: Path):
    shell = shutil.which("dash") or "sh"
    assert subprocess.run([shell, "-n", str(script)], capture_output=True).returncode == 0
    assert os.access(script, os.X_OK)


def run_init(tmp_path: Path, **changes: str) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mc").write_text(FAKE_MC)
    (bin_dir / "mc").chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "MC_CALLS": str(tmp_path / "calls"), **ENV, **changes}
    return subprocess.run(["sh", str(DEPLOY / "minio" / "init.sh")], env=env, capture_output=True, text=True)


def test_minio_init_makes_the_locked_bucket_and_both_users_and_runs_again(tmp_path):
    first = run_init(tmp_path)
    assert first.returncode == 0, first.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    policies = DEPLOY / "minio"
    assert calls == [
        "alias set gw http://minio:9000 root root-secret",
        "mb --ignore-existing --with-lock gw/gongwen",
        "admin user add gw gongwen-app app-secret",
        f"admin policy create gw gongwen-writer {policies}/gongwen-policy.json",
        "admin policy attach gw gongwen-writer --user gongwen-app",
        "admin user add gw auditor auditor-secret",
        f"admin policy create gw gongwen-auditor {policies}/auditor-policy.json",
        "admin policy attach gw gongwen-auditor --user auditor",
    ]
    again = run_init(tmp_path)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "calls").read_text().splitlines() == calls * 2


def test_minio_init_refuses_a_bucket_its_policies_do_not_name(tmp_path):
    result = run_init(tmp_path, GONGWEN_S3_BUCKET="archive")
    assert result.returncode == 2
    assert 'does not name the bucket "archive"' in result.stderr
    assert not (tmp_path / "calls").exists()


def test_minio_init_needs_every_secret(tmp_path):
    result = run_init(tmp_path, MINIO_AUDITOR_PASSWORD="")
    assert result.returncode != 0 and "MINIO_AUDITOR_PASSWORD" in result.stderr


def test_healthcheck_script_says_what_is_wrong(tmp_path):
    script = str(DEPLOY / "healthcheck.py")
    usage = subprocess.run([sys.executable, script], capture_output=True, text=True)
    assert usage.returncode == 2 and "healthcheck.py url URL" in usage.stderr
    down = subprocess.run([sys.executable, script, "url", "http://127.0.0.1:9/health"], capture_output=True, text=True)
    assert down.returncode == 1 and down.stderr.startswith("unhealthy: http://127.0.0.1:9/health")


def dockerfile_runs() -> list[tuple[list[str], str]]:
    """Each RUN of deploy/Dockerfile with the shell it runs in (SHELL, else /bin/sh -c)."""
    shell, runs = ["/bin/sh", "-c"], []
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text(encoding="utf-8"))
    for line in text.splitlines():
        if line.startswith("FROM "):
            shell = ["/bin/sh", "-c"] if " AS prefect" in line else shell
        elif line.startswith("SHELL "):
            shell = json.loads(line.removeprefix("SHELL "))
        elif line.startswith("RUN "):
            runs.append((shell, line.removeprefix("RUN ")))
    return runs


def test_every_dockerfile_run_parses_in_its_shell():
    runs = dockerfile_runs()
    assert len(runs) == 4 and runs[-1][0][0] == "/bin/bash"
    for shell, script in runs:
        result = subprocess.run([shell[0], "-n", "-c", script], capture_output=True, text=True)
        assert result.returncode == 0, (script, result.stderr)
