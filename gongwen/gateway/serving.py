"""Running the 门户: its settings from gongwen's (GONGWEN_*), and uvicorn serving it — on its own
(``gongwen gateway``, the compose stack's gateway service) or in a thread of ``gongwen server``.

Behind a TLS proxy (Caddy) the gateway trusts X-Forwarded-* headers from the proxy's address only
(uvicorn's ``forwarded_allow_ips``: loopback by default, the compose network's in the stack).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from pathlib import Path

import uvicorn

from gongwen.app import App
from gongwen.gateway.app import access_log, create_gateway
from gongwen.gateway.config import Files, GatewayConfig
from gongwen.keys import prefect_auth_string
from models.errors import ServiceUnavailable
from storage.sign_in_sessions import Limits


def gateway_config(app: App, *, upstream: str, auth_string: str | None = None) -> GatewayConfig:
    """The gateway's config from gongwen's settings (the home's keys unless the environment gives them)."""
    settings = app.settings
    return GatewayConfig(
        upstream=upstream,
        auth_string=auth_string or prefect_auth_string(settings.home.resolve()),
        secret_key=app.secret_key,
        db=app.db,
        public_url=settings.public_url,
        limits=Limits(
            idle=dt.timedelta(minutes=settings.session_idle_minutes),
            lifetime=dt.timedelta(hours=settings.session_hours),
        ),
        totp_roles=frozenset(role.strip() for role in settings.totp_roles.split(",") if role.strip()),
        files=Files(app.download_links, lambda: app.archive_store, app.converter_client),
    )


def _server(config: GatewayConfig, host: str, port: int, log: Path | None, forwarded_from: str) -> uvicorn.Server:
    if log is not None:
        handler = logging.FileHandler(log, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
    options = uvicorn.Config(
        create_gateway(config),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,  # ours names the person (gongwen.gateway.access)
        proxy_headers=True,
        forwarded_allow_ips=forwarded_from,
        ws="websockets-sansio",
    )
    return uvicorn.Server(options)


def serve(
    config: GatewayConfig, host: str, port: int, *, log: Path | None = None, forwarded_from: str = "127.0.0.1"
) -> None:
    """Serve the gateway until interrupted."""
    _server(config, host, port, log, forwarded_from).run()


def serve_in_thread(config: GatewayConfig, host: str, port: int, *, log: Path | None = None) -> uvicorn.Server:
    """Serve the gateway from a daemon thread (``gongwen server``); the server object, to stop it
    (``should_exit``). Returns once it listens."""
    server = _server(config, host, port, log, "127.0.0.1")
    thread = threading.Thread(target=server.run, name="门户", daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.05)
    if not server.started:
        raise ServiceUnavailable(f"门户未能在 {host}:{port} 上启动（端口是否已被占用？GONGWEN_GATEWAY_PORT）")
    return server
