"""deploy/compose.yaml, env.example and the Dockerfile: what a missing secret, a drifted name or a
service without a healthcheck would break in an office's first start.

The checks on the file as written need nothing; ``docker compose config`` (the v2 client, which
validates without an engine) checks the rest with env.example's values and dummy secrets."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from gongwen.settings import Settings
from tests.deploy.deploy_files import (
    DEPLOY,
    DOCKERFILE,
    ENV_EXAMPLE,
    IMAGE_CODE_DIR,
    ROOT,
    SECRET,
    compose_config,
    compose_raw,
    compose_text,
    env_example,
    variables,
)

#: Services that hold data, and where: each must keep it on a named volume.
STATEFUL = {
    "postgres": "/var/lib/postgresql/data",
    "redis": "/data",
    "minio": "/data",
    "worker": "/var/lib/gongwen/results",
}


def setting_variables() -> set[str]:
    """Every environment variable gongwen's settings read."""
    names = set()
    for name, field in Settings.model_fields.items():
        names.add(str(field.validation_alias) if field.validation_alias else f"GONGWEN_{name.upper()}")
    return names


def test_env_example_names_every_setting_and_every_compose_variable_with_a_line_of_documentation():
    lines = ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
    listed = {}
    for index, line in enumerate(lines):
        if match := re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=.*", line.strip()):
            listed[match[1]] = index
    assert setting_variables() - set(listed) == set()
    used = {name for name, _, _ in variables(compose_text())}
    assert used - set(env_example()) == set(), "compose variables missing from env.example"
    for name, index in listed.items():
        above = lines[index - 1].strip()
        assert above.startswith("# ") and len(above) > 10, f"{name} has no comment line above it"


def test_env_example_holds_no_secret_and_compose_no_default_for_one():
    example = env_example()
    secrets = {name for name in example if SECRET.search(name)}
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "PREFECT_AUTH_STRING", "GONGWEN_S3_SECRET_KEY"} <= secrets
    assert "GONGWEN_SECRET_KEY" in secrets
    assert {name: example[name] for name in secrets if example[name]} == {}
    for name, op, _ in variables(compose_text()):
        if SECRET.search(name):
            # ${NAME:?…} stops start-up when unset or empty; ${NAME?…} when unset (an SMTP
            # password may be empty for a relay without login, but must be given)
            assert op in (":?", "?"), f"${{{name}}} in compose.yaml may fall back to a default"
    assert re.search(r"(?i)password|secret", compose_text().replace("${", "")) is not None


def test_every_prefect_variable_in_compose_is_a_setting_prefect_or_prefect_redis_knows():
    from prefect.settings import Settings as PrefectSettings
    from prefect.settings.legacy import _get_valid_setting_names

    known = set(_get_valid_setting_names(PrefectSettings))
    try:
        from prefect_redis.client import RedisMessagingSettings
    except ImportError:
        redis_known = None
    else:
        redis_known = {f"PREFECT_REDIS_MESSAGING_{name.upper()}" for name in RedisMessagingSettings.model_fields}
    prefect_services = [svc for svc in compose_raw()["services"].values() if "build" in svc]  # gongwen's images
    used = {key for svc in prefect_services for key in (svc.get("environment") or {})}
    unknown = {name for name in used if name.startswith("PREFECT_") and name not in known}
    if redis_known is None:
        unknown = {name for name in unknown if not name.startswith("PREFECT_REDIS_MESSAGING_")}
    else:
        unknown -= redis_known
    assert unknown == set()


def test_dockerfile_builds_what_compose_and_prefect_yaml_expect():
    """Read, not built (no Docker engine here): the base, the code path the pull step and the
    healthchecks use, the worker command, and the printing packages and Fandol fonts of
    .ci/system-packages.sh — the same ones, without its test-only tools."""
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11\.\d+-slim-bookworm AS prefect$", text, re.M)  # a pinned patch release
    assert re.search(r"^FROM prefect AS worker$", text, re.M)
    assert f"WORKDIR {IMAGE_CODE_DIR}" in text and f"GONGWEN_CODE_DIR={IMAGE_CODE_DIR}" in text
    for folder in ("models", "storage", "doc_templates", "delivery", "flows", "gongwen", "deploy"):
        assert re.search(rf"^COPY {folder} \./{folder}$", text, re.M), folder
    assert '"prefect", "worker", "start", "--pool", "gongwen", "--type", "process"' in text
    assert "prefect-redis==" in text

    script = (ROOT / ".ci" / "system-packages.sh").read_text()
    [installed] = re.findall(r"apt-get install -y -qq --no-install-recommends ([a-z0-9 .+-]+)", text)
    for package in ("libreoffice-writer-nogui", "python3-uno", "fonts-noto-cjk"):
        assert f"need+=({package})" in script and package in installed.split(), package
    assert not {"chromium", "poppler-utils"} & set(installed.split())  # test tools stay out
    fandol = r"texmf-dist/fonts/opentype/public/fandol/Fandol\{Fang,Kai,Hei,Song\}-\*\.otf"
    assert re.search(fandol, script) and re.search(fandol, text)
    fonts_dir = "/usr/local/share/fonts/fandol"
    assert f"fandol={fonts_dir}" in script and "cp " in text and fonts_dir in text
    fonts_conf = (ROOT / "doc_templates" / "fonts" / "fonts.conf").read_text()
    assert f"<dir>{fonts_dir}</dir>" in fonts_conf

    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore and "deploy/.env" in ignore
    assert {"**/*.pem", "**/*.key"} <= set(ignore)  # an office's TLS key left in the checkout stays out
    assert {f"!{folder}/" for folder in ("models", "storage", "doc_templates", "delivery", "flows", "gongwen")} <= set(
        ignore
    )


def test_compose_refuses_to_start_without_the_secrets(compose):
    result = compose_config(compose, ENV_EXAMPLE)
    assert result.returncode != 0
    assert re.search(r"required variable \w+ is missing a value: set \w+", result.stderr), result.stderr


def one_shot(resolved: dict) -> set[str]:
    """Jobs others wait on to finish (restart "no", depended on with service_completed_successfully)."""
    awaited = {
        name
        for svc in resolved["services"].values()
        for name, dep in (svc.get("depends_on") or {}).items()
        if dep.get("condition") == "service_completed_successfully"
    }
    assert all(resolved["services"][name].get("restart") in (None, "no") for name in awaited)
    return awaited


def test_compose_config_is_valid_and_every_long_running_service_has_a_healthcheck(resolved):
    services = resolved["services"]
    assert one_shot(resolved) == {"minio-init", "prefect-migrate", "gongwen-migrate", "prefect-deploy"}
    for name, svc in services.items():
        if name in one_shot(resolved):
            continue
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert svc.get("restart") == "unless-stopped", name
        for dep, how in (svc.get("depends_on") or {}).items():
            if dep not in one_shot(resolved):
                assert how["condition"] == "service_healthy", f"{name} starts before {dep} is healthy"


def test_the_services_gongwen_points_at_exist_and_are_healthy_first(resolved):
    services = resolved["services"]
    worker = services["worker"]
    env = worker["environment"]
    assert env["GONGWEN_ARCHIVE"] == "s3" and env["GONGWEN_MAIL"] == "smtp"
    database = urlsplit(env["GONGWEN_DATABASE_URL"])
    assert database.scheme == "postgresql+psycopg"
    targets = {
        "database": database.hostname,
        "s3": env["GONGWEN_S3_ENDPOINT"].split(":")[0],
        "smtp": env["GONGWEN_SMTP_HOST"],
        "prefect api": urlsplit(env["PREFECT_API_URL"]).hostname,
    }
    for what, host in targets.items():
        assert host in services, f"{what}: {host} is not a service"
        assert services[host].get("healthcheck", {}).get("test"), f"{what}: {host} has no healthcheck"
    for what in ("database", "s3", "prefect api"):
        assert worker["depends_on"][targets[what]]["condition"] == "service_healthy", what
    assert worker["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["gongwen-migrate"]["condition"] == "service_completed_successfully"
    server = services["prefect-server"]["environment"]
    assert server["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://prefect:")
    assert urlsplit(server["PREFECT_SERVER_DATABASE_CONNECTION_URL"]).hostname == "postgres"
    assert server["PREFECT_MESSAGING_BROKER"] == server["PREFECT_MESSAGING_CACHE"] == "prefect_redis.messaging"
    assert server["PREFECT_REDIS_MESSAGING_HOST"] == "redis"
    assert server["PREFECT_SERVER_API_AUTH_STRING"] == env["PREFECT_API_AUTH_STRING"]
    assert services["prefect-services"]["environment"] == {
        key: value for key, value in server.items() if key != "PREFECT_SERVER_UI_API_URL"
    }


def test_stateful_services_keep_their_data_on_named_volumes_and_workers_share_results(resolved):
    services = resolved["services"]
    for name, target in STATEFUL.items():
        mounts = {m["target"]: m for m in services[name].get("volumes", [])}
        assert target in mounts, f"{name} keeps {target} in the container"
        assert mounts[target]["type"] == "volume" and mounts[target]["source"] in resolved["volumes"]
    worker = services["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert "container_name" not in worker
    assert worker["environment"]["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] == STATEFUL["worker"]


def test_healthchecks_and_jobs_use_the_scripts_the_image_carries(resolved):
    services = resolved["services"]
    for name in ("prefect-server", "prefect-services", "worker"):
        test = services[name]["healthcheck"]["test"]
        assert test[:3] == ["CMD", "python", f"{IMAGE_CODE_DIR}/deploy/healthcheck.py"], name
    assert (DEPLOY / "healthcheck.py").is_file()
    deploy_job = services["prefect-deploy"]
    assert deploy_job["working_dir"] == IMAGE_CODE_DIR
    assert "--prefect-file deploy/prefect.yaml" in " ".join(deploy_job["command"])
    init = services["minio-init"]
    assert init["entrypoint"] == ["/bin/sh", "/policies/init.sh"]
    assert any(v["target"] == "/policies" and v["source"].endswith("deploy/minio") for v in init["volumes"])
    postgres = services["postgres"]
    assert any(v["target"].startswith("/docker-entrypoint-initdb.d/") for v in postgres["volumes"])


def test_the_workers_print_through_the_converter_service_healthy_first(resolved):
    services = resolved["services"]
    worker, converter = services["worker"], services["converter"]
    url = urlsplit(worker["environment"]["GONGWEN_CONVERTER_URL"])
    assert url.hostname == "converter" and worker["depends_on"]["converter"]["condition"] == "service_healthy"
    assert converter["command"][:3] == ["gongwen", "converter", "serve"]
    assert converter["command"][converter["command"].index("--port") + 1] == str(url.port)
    assert "0.0.0.0" in converter["command"]  # reachable from the workers' containers
    assert converter["healthcheck"]["test"] == [
        "CMD",
        "python",
        f"{IMAGE_CODE_DIR}/deploy/healthcheck.py",
        "url",
        f"http://127.0.0.1:{url.port}/health",
    ]
    assert converter["image"] == worker["image"]  # the image with LibreOffice and the fonts
    timeout = converter["environment"]["GONGWEN_CONVERTER_TIMEOUT"]
    assert worker["environment"]["GONGWEN_CONVERTER_TIMEOUT"] == timeout
