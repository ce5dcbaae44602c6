"""A real ``gongwen server`` (Prefect server + every deployment) in a home of its own, for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from gongwen.app import App
from gongwen.desk import Desk
from gongwen.server import PrefectServer, free_port, prefect_environment, spawn_server, stop_server
from gongwen.settings import Settings
from models.directory import Directory
from storage import credentials, sign_in_sessions
from storage.directory_store import save_directory

GONGWEN = str(Path(sys.executable).with_name("gongwen"))


@dataclass
class Served:
    """One gongwen home served by ``gongwen server`` on a free port."""

    home: Path
    port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def prefect(self) -> PrefectServer:
        return PrefectServer(self.port)

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("GONGWEN_", "PREFECT_"))}
        env |= self.extra_env
        prefect = prefect_environment(self.home, self.prefect, environ=env)
        own = {"GONGWEN_HOME": str(self.home), "GONGWEN_MAIL": "outbox", "GONGWEN_MAIL_BACKOFF": "0"}
        ports = {"GONGWEN_GATEWAY_PORT": str(self.gateway_port), "GONGWEN_SERVER_PORT": str(self.port)}
        return env | own | ports | prefect

    @property
    def gateway(self) -> str:
        """The 门户's address."""
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def app(self) -> App:
        database = self.extra_env.get("GONGWEN_DATABASE_URL")
        return App(Settings(home=self.home, archive="local", mail="outbox", database_url=database))

    def api(self, method: str, path: str, body: object = None) -> object:
        """A call of the Prefect API as the server's own processes make it (with its auth string); the JSON."""
        user, password = self.env["PREFECT_API_AUTH_STRING"].split(":", 1)
        response = httpx.request(method, f"{self.prefect.api_url}{path}", json=body, auth=(user, password), timeout=30)
        response.raise_for_status()
        return response.json()

    def one_time_password(self, name: str) -> str:
        """A one-time 门户 password for ``name``, as ``gongwen org passwd`` gives an administrator."""
        with self.app.db.transaction() as session:
            return credentials.issue_one_time(session, name=name)

    def token(self, name: str) -> str:
        """A 门户 session token of ``name``, as ``POST /gateway/token`` gives one after sign-in (made here
        directly in gongwen's database: the sign-in itself is tested in test_gateway_served.py)."""
        with self.app.db.transaction() as session:
            return sign_in_sessions.start(session, name=name, kind=sign_in_sessions.COMMAND_LINE)

    def desk(self, timeout: float = 120, *, as_person: str | None = None) -> Desk:
        """A client of the server: a person's through the 门户 (``as_person``), else the server's own."""
        if as_person is not None:
            return Desk(f"{self.gateway}/api", timeout=timeout, api_key=self.token(as_person))
        return Desk(self.prefect.api_url, timeout=timeout, auth_string=self.env["PREFECT_API_AUTH_STRING"])

    def load(self, directory: Directory) -> None:
        with self.app.db.transaction() as session:
            save_directory(session, directory=directory)

    def start(self) -> None:
        self.process = spawn_server(self.home, self.port, env=self.env)

    def kill(self) -> None:
        """Kill the server and every process it started at once (kill -9 of the group: as a crash would)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=60)
        self.process = None

    def stop(self) -> None:
        """Stop as an operator would (SIGTERM: serving stops, then the Prefect server)."""
        if self.process is not None:
            stop_server(self.process)
        self.process = None

    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        """Run ``gongwen`` as a person would: the person named by ``--as`` signed in at the 门户 (PREFECT_API_URL
        at the gateway, their session token as PREFECT_API_KEY); without ``--as``, on the server's machine
        with its own access."""
        env = self.env
        if "--as" in args:
            person = args[args.index("--as") + 1]
            env |= {"PREFECT_API_URL": f"{self.gateway}/api", "PREFECT_API_KEY": self.token(person)}
        return subprocess.run(
            [GONGWEN, "--home", str(self.home), *args], env=env, capture_output=True, text=True, check=check
        )
