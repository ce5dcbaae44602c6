"""The compose stack without containers: the same commands and environment as deploy/compose.yaml,
run as processes on this machine against the PostgreSQL and Redis at 127.0.0.1.

Only what cannot be the same is changed: host names become 127.0.0.1, ports are free ones, the
databases are fresh ones made by deploy/postgres/init-databases.sh (with random names), Redis
uses two empty logical databases and no password (the local server has none), and gongwen's
workers archive to a shared local folder and dispatch to a shared outbox instead of MinIO and
SMTP (no MinIO server can be installed here).
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gongwen.server import free_port
from tests.deploy.deploy_files import DEPLOY, ROOT, VENV_BIN, image_command, service

PG_HOST, PG_PORT, PG_SUPERUSER = "127.0.0.1", 5432, "postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
START_TIMEOUT = 120.0


def redis_client(db: int = 0):
    import redis

    return redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_connect_timeout=2, socket_timeout=5)


def missing() -> str | None:
    """Why the stack cannot run here (a skip reason), or None."""
    from tests.conftest import POSTGRES

    if not POSTGRES:
        return "PostgreSQL at 127.0.0.1:5432 is not running"
    if subprocess.run(["sh", "-c", "command -v psql"], capture_output=True).returncode != 0:
        return "psql is not installed (deploy/postgres/init-databases.sh needs it)"
    try:
        import prefect_redis  # noqa: F401
        import redis
    except ImportError:
        return "prefect-redis is not installed: pip install prefect-redis (the Prefect server's Redis messaging)"
    try:
        redis_client().ping()
    except redis.RedisError as error:
        return f"Redis at {REDIS_HOST}:{REDIS_PORT} is not running ({error})"
    return None


def clean_environment() -> dict[str, str]:
    """This process's environment without any PREFECT_ or GONGWEN_ setting, the venv first on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GONGWEN_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@dataclass
class Databases:
    """gongwen's and Prefect's databases, each owned by its role, as init-databases.sh makes them."""

    suffix: str = field(default_factory=lambda: secrets.token_hex(5))
    gongwen_password: str = field(default_factory=lambda: secrets.token_hex(12))
    prefect_password: str = field(default_factory=lambda: secrets.token_hex(12))

    @property
    def names(self) -> dict[str, str]:
        return {
            "GONGWEN_DB_USER": f"gw_role_{self.suffix}",
            "GONGWEN_DB_NAME": f"gw_{self.suffix}",
            "PREFECT_DB_USER": f"gw_prefect_role_{self.suffix}",
            "PREFECT_DB_NAME": f"gw_prefect_{self.suffix}",
        }

    @property
    def gongwen_url(self) -> str:
        n = self.names
        return f"postgresql+psycopg://{n['GONGWEN_DB_USER']}:{self.gongwen_password}@{PG_HOST}:{PG_PORT}/{n['GONGWEN_DB_NAME']}"

    @property
    def prefect_url(self) -> str:
        n = self.names
        return f"postgresql+asyncpg://{n['PREFECT_DB_USER']}:{self.prefect_password}@{PG_HOST}:{PG_PORT}/{n['PREFECT_DB_NAME']}"

    def create(self) -> None:
        env = clean_environment() | self.names
        env |= {"PGHOST": PG_HOST, "PGPORT": str(PG_PORT), "POSTGRES_USER": PG_SUPERUSER}
        env |= {"GONGWEN_DB_PASSWORD": self.gongwen_password, "PREFECT_DB_PASSWORD": self.prefect_password}
        result = subprocess.run(
            ["sh", str(DEPLOY / "postgres" / "init-databases.sh")], env=env, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            raise RuntimeError(f"init-databases.sh failed: {result.stderr}")

    def drop(self) -> None:
        n = self.names
        sql = (
            f'DROP DATABASE IF EXISTS "{n["GONGWEN_DB_NAME"]}" WITH (FORCE);'
            f'DROP DATABASE IF EXISTS "{n["PREFECT_DB_NAME"]}" WITH (FORCE);'
            f'DROP ROLE IF EXISTS "{n["GONGWEN_DB_USER"]}";'
            f'DROP ROLE IF EXISTS "{n["PREFECT_DB_USER"]}";'
        )
        for statement in sql.rstrip(";").split(";"):
            subprocess.run(
                ["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_SUPERUSER, "-d", "postgres", "-qc", statement],
                capture_output=True,
                timeout=60,
            )


def empty_redis_databases(count: int) -> list[int]:
    """Logical Redis databases (1–15) that hold nothing now: the stack's, flushed afterwards."""
    free = [db for db in range(15, 0, -1) if redis_client(db).dbsize() == 0]
    if len(free) < count:
        raise RuntimeError(f"fewer than {count} empty Redis databases")
    return free[:count]


@dataclass
class Process:
    """A long-running command of the stack, in its own process group, logging to a file."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    cwd: Path = ROOT
    popen: subprocess.Popen | None = None

    def start(self) -> Process:
        with self.log.open("ab") as output:
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                cwd=self.cwd,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def tail(self, size: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-size:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


def wait_for(url: str, process: Process, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{process.name} did not answer {url} within {timeout:.0f} s:\n{process.tail()}")


def run(command: list[str], env: dict[str, str], *, timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-3000:]}{result.stderr}")
    return result


def overridden(compose_env: dict[str, str], overrides: dict[str, str]) -> dict[str, str]:
    """compose's environment with ``overrides``, each of which must be a variable compose sets."""
    unknown = set(overrides) - set(compose_env)
    if unknown:
        raise AssertionError(f"compose.yaml no longer sets {sorted(unknown)}")
    return {**compose_env, **overrides}


@dataclass
class Stack:
    """The Prefect server (API, background services) as compose runs it, here."""

    folder: Path
    databases: Databases = field(default_factory=Databases)
    port: int = field(default_factory=free_port)
    auth: str = field(default_factory=lambda: f"gongwen:{secrets.token_hex(8)}")
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))
    redis_dbs: list[int] = field(default_factory=list)
    processes: list[Process] = field(default_factory=list)

    @property
    def secrets(self) -> dict[str, str]:
        """The values an office puts in deploy/.env, for interpolating compose.yaml."""
        return {
            "PREFECT_DB_PASSWORD": self.databases.prefect_password,
            "GONGWEN_DB_PASSWORD": self.databases.gongwen_password,
            "REDIS_PASSWORD": "unused-here",
            "PREFECT_AUTH_STRING": self.auth,
            "GONGWEN_S3_ACCESS_KEY": "unused-here",
            "GONGWEN_S3_SECRET_KEY": "unused-here",
            "GONGWEN_SMTP_PASSWORD": "",
            "GONGWEN_MAIL_FROM": "djqqjm@kaifeng.example.cn",
            "GONGWEN_SECRET_KEY": self.secret_key,
            "GONGWEN_PUBLIC_URL": "https://gongwen.example.cn",
        }

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def server_env(self, name: str) -> dict[str, str]:
        """The environment of the prefect-server / prefect-services / prefect-migrate service, here."""
        messaging, docket = self.redis_dbs
        overrides = {
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": self.databases.prefect_url,
            "PREFECT_REDIS_MESSAGING_HOST": REDIS_HOST,
            "PREFECT_REDIS_MESSAGING_PORT": str(REDIS_PORT),
            "PREFECT_REDIS_MESSAGING_DB": str(messaging),
            "PREFECT_REDIS_MESSAGING_PASSWORD": "",
            "PREFECT_SERVER_DOCKET_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{docket}",
        }
        if name == "prefect-server":
            overrides["PREFECT_SERVER_UI_API_URL"] = self.api_url
        env = overridden(service(name, self.secrets)["environment"], overrides)
        home = self.folder / name
        home.mkdir(exist_ok=True)
        return clean_environment() | env | {"PREFECT_HOME": str(home), "PREFECT_SERVER_API_PORT": str(self.port)}

    def client_env(self, name: str = "client") -> dict[str, str]:
        """What a Prefect client (prefect deploy, a worker) gets from compose: the API and its auth."""
        env = service("prefect-deploy", self.secrets)["environment"]
        home = self.folder / name
        home.mkdir(exist_ok=True)
        return clean_environment() | overridden(env, {"PREFECT_API_URL": self.api_url}) | {"PREFECT_HOME": str(home)}

    def command(self, name: str) -> list[str]:
        return image_command(service(name, self.secrets)["command"], {"0.0.0.0": "127.0.0.1", "4200": str(self.port)})

    def healthcheck(self, name: str, env: dict[str, str], replacements: dict[str, str] | None = None) -> int:
        """Run the service's compose healthcheck here; its exit code."""
        test = service(name, self.secrets)["healthcheck"]["test"]
        command = image_command(test, {"127.0.0.1:4200": f"127.0.0.1:{self.port}", **(replacements or {})})
        return subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=60).returncode

    def start(self) -> None:
        self.databases.create()
        self.redis_dbs = empty_redis_databases(2)
        run(self.command("prefect-migrate"), self.server_env("prefect-migrate"))
        api = Process(
            "prefect-server", self.command("prefect-server"), self.server_env("prefect-server"), self.log("api")
        )
        services = Process(
            "prefect-services",
            self.command("prefect-services"),
            self.server_env("prefect-services"),
            self.log("services"),
        )
        self.processes += [api.start(), services.start()]
        wait_for(f"{self.api_url}/health", api)

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        for db in self.redis_dbs:
            redis_client(db).flushdb()
        self.databases.drop()


@contextmanager
def running_stack(folder: Path) -> Iterator[Stack]:
    stack = Stack(folder)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def worker_runs(log: Path) -> set[str]:
    """The flow runs a worker submitted and kept (its log names each; an aborted one was another's)."""
    text = log.read_text(errors="replace") if log.exists() else ""
    submitted = set(re.findall(r"submitting flow run '([0-9a-f-]{36})'", text))
    aborted = set(re.findall(r"Aborted submission of flow run '([0-9a-f-]{36})'", text))
    return submitted - aborted


def gongwen_worker_env(stack: Stack, shared: Path, index: int, webserver_port: int) -> dict[str, str]:
    """The worker service's environment, here: the test databases, a shared local archive and outbox
    (GONGWEN_HOME) and a shared results folder instead of MinIO, SMTP and the results volume."""
    overrides = {
        "GONGWEN_DATABASE_URL": stack.databases.gongwen_url,
        "GONGWEN_ARCHIVE": "local",
        "GONGWEN_MAIL": "outbox",
        "GONGWEN_MAIL_BACKOFF": "0",
        "PREFECT_API_URL": stack.api_url,
        "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(shared / "results"),
        "PREFECT_WORKER_WEBSERVER_PORT": str(webserver_port),
    }
    env = overridden(service("worker", stack.secrets)["environment"], overrides)
    home = stack.folder / f"worker-{index}"
    home.mkdir(exist_ok=True)
    return (
        clean_environment()
        | env
        | {
            "GONGWEN_HOME": str(shared / "home"),
            "GONGWEN_CODE_DIR": str(ROOT),  # the image's ENV: where the pull step finds the code
            "PREFECT_HOME": str(home),
            "PREFECT_WORKER_QUERY_SECONDS": "1",
        }
    )


def gateway_env(stack: Stack, shared: Path) -> dict[str, str]:
    """The gateway service's environment, here: the test databases, the Prefect server's address and the
    home the workers share (its archive), the secrets of compose (the same GONGWEN_SECRET_KEY)."""
    overrides = {
        "GONGWEN_DATABASE_URL": stack.databases.gongwen_url,
        "GONGWEN_ARCHIVE": "local",
        "GONGWEN_MAIL": "outbox",
        "PREFECT_API_URL": stack.api_url,
    }
    env = overridden(service("gateway", stack.secrets)["environment"], overrides)
    home = stack.folder / "gateway"
    home.mkdir(exist_ok=True)
    return clean_environment() | env | {"GONGWEN_HOME": str(shared / "home"), "PREFECT_HOME": str(home)}
