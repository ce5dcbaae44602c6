"""``gongwen server``: a Prefect server on 127.0.0.1 and every deployment of gongwen served from one process.

The Prefect server keeps its state under ``<GONGWEN_HOME>/prefect`` (SQLite), or in
PostgreSQL when ``PREFECT_API_DATABASE_CONNECTION_URL`` (or
``PREFECT_SERVER_DATABASE_CONNECTION_URL``) is set; analytics are off. The UI is
told the API's real port (``prefect server start --port`` alone would leave it on
4200). The served flow runs are forks of a forkserver this process starts with Prefect and the
flows already imported (flows.run_processes), each given this process's environment, so they use
the same GONGWEN_* settings (flows.runtime), and are started as soon as the server schedules them
(a new run, a resumed form) rather than at the runner's next poll of the server (every second, the
fallback).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gongwen.keys import prefect_auth_string
from models.errors import InputError, ServiceUnavailable

HOST = "127.0.0.1"
START_TIMEOUT = 90.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class PrefectServer:
    """Where the Prefect server listens."""

    port: int

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False


def prefect_environment(
    home: Path, server: PrefectServer, *, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """The PREFECT_* variables for the server, the serving process and its flow runs (the database URL,
    if any, taken from ``environ``, and the runner's fallback poll: ``environ``'s
    PREFECT_RUNNER_POLL_FREQUENCY, else every second)."""
    prefect_home = home.resolve() / "prefect"
    auth = prefect_auth_string(home.resolve(), environ.get("PREFECT_API_AUTH_STRING"))
    env = {
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_URL": server.api_url,
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(server.port),
        "PREFECT_SERVER_UI_API_URL": server.api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # only the gateway, the serving process and its flow runs hold it (gongwen.keys)
        "PREFECT_API_AUTH_STRING": auth,
        "PREFECT_SERVER_API_AUTH_STRING": auth,
        "PREFECT_RUNNER_POLL_FREQUENCY": environ.get("PREFECT_RUNNER_POLL_FREQUENCY", "1"),
        # the server is started from this installation: its clients need not ask it for its version
        "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false",
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(prefect_home / "storage"),
    }
    database = environ.get("PREFECT_API_DATABASE_CONNECTION_URL") or environ.get(
        "PREFECT_SERVER_DATABASE_CONNECTION_URL"
    )
    if database:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database
    return env


@contextmanager
def running_prefect_server(home: Path, port: int, log: Path | None = None) -> Iterator[PrefectServer]:
    """Start ``prefect server start`` on 127.0.0.1:``port``, wait until it answers, stop it on exit."""
    server = PrefectServer(port)
    if server.healthy():
        raise InputError(f"端口 {port} 上已有 Prefect 服务器在运行，请换一个端口", "--port")
    # gongwen's own settings and secrets (GONGWEN_SECRET_KEY, the database's password …) stay out of it
    own = {key: value for key, value in os.environ.items() if not key.startswith("GONGWEN_")}
    env = {**own, **prefect_environment(home, server)}
    Path(env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    log = log or Path(env["PREFECT_HOME"]) / "server.log"
    prefect = Path(sys.executable).with_name("prefect")
    command = [str(prefect), "server", "start", "--host", HOST, "--port", str(port)]
    with log.open("ab") as output:
        # the same process group as gongwen's: stopping (or killing) the group stops the Prefect server too
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_healthy(server, process, log)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_healthy(server: PrefectServer, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.healthy():
            return
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:]
            raise ServiceUnavailable(f"Prefect 服务器启动失败（退出码 {process.returncode}）：\n{tail}")
        time.sleep(0.3)
    raise ServiceUnavailable(f"Prefect 服务器 {START_TIMEOUT:.0f} 秒内未就绪，见 {log}")


def serve_deployments(limit: int | None = None) -> None:
    """Serve every deployment of gongwen until interrupted (PREFECT_API_URL must point at the server).

    Each flow is added to the runner itself (not only its deployment), so the runner starts its runs
    from the flow in memory, as forks of the preloaded forkserver (flows.run_processes), rather than
    as ``python -m prefect.engine`` importing everything again; and it starts each as soon as the
    server schedules it (flows.run_processes.serve), not at its next poll."""
    import asyncio

    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner

    from flows.deployments import served_flows
    from flows.run_processes import serve, start_flow_runs_from_forkserver
    from flows.served_names import NAME

    start_flow_runs_from_forkserver(main_imports=("gongwen.cli",))  # the ``gongwen`` script's import
    runner = Runner(pause_on_shutdown=True, limit=limit)
    deployment_ids = [runner.add_flow(served.flow, name=NAME, **served.options()) for served in served_flows()]
    try:
        asyncio.run(serve(runner, deployment_ids))
    except (KeyboardInterrupt, TerminationSignal):
        pass


def stop_server(process: subprocess.Popen, timeout: float = 30) -> None:
    """Stop a ``gongwen server`` process (SIGTERM): it stops serving, then its Prefect server;
    killed with its whole process group if it has not stopped within ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def spawn_server(home: Path, port: int, *, env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """Start ``gongwen --home HOME server --port PORT`` in a session of its own (it runs on until
    stopped, whoever started it), its output appended to ``<home>/server.log``; return once every
    deployment is served, or raise ServiceUnavailable with the end of that log."""
    from flows.deployments import deployment_names
    from gongwen.desk import Desk  # the Prefect client, only when a server is started

    log = home / "server.log"
    command = [str(Path(sys.executable).with_name("gongwen")), "--home", str(home), "server", "--port", str(port)]
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    alive = lambda: process.poll() is None  # noqa: E731
    auth = prefect_auth_string(home.resolve(), (env or os.environ).get("PREFECT_API_AUTH_STRING"))
    desk = Desk(PrefectServer(port).api_url, timeout=START_TIMEOUT, auth_string=auth)
    try:
        ready = desk.wait_for_deployments(tuple(deployment_names()), alive=alive) and alive()
    except ServiceUnavailable:  # not ready in time: stopped, not left running behind the caller
        ready = False
    if not ready:
        stop_server(process)
        raise ServiceUnavailable(f"gongwen server 未能启动：\n{log.read_text(errors='replace')[-3000:]}")
    return process
