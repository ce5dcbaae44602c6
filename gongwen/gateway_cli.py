"""Commands of the 门户: ``gongwen gateway`` (the gateway on its own, as the compose stack runs it) and
``gongwen org passwd`` (an administrator gives a person a one-time sign-in password)."""

from __future__ import annotations

import click

from actions.sign_in import issue_password
from gongwen import commands
from models.errors import InputError
from models.identity import Credentials
from storage.migrations import upgrade


@click.command("gateway")
@click.option("--host", default=None, help="监听地址（默认 GONGWEN_GATEWAY_HOST，即 127.0.0.1）")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 GONGWEN_GATEWAY_PORT，即 8080）")
@click.option("--upstream", default=None, help="其后的 Prefect 服务器，如 http://prefect-server:4200")
@click.option("--forwarded-from", default="127.0.0.1", show_default=True, help="信任其 X-Forwarded-* 的代理地址")
@click.pass_obj
def gateway(
    ctx: commands.Context, host: str | None, port: int | None, upstream: str | None, forwarded_from: str
) -> None:
    """启动门户：登录后方可使用 Prefect 界面与 API（PREFECT_API_AUTH_STRING 为 Prefect 服务器的认证串）。"""
    from gongwen.gateway.serving import gateway_config, serve

    settings = ctx.app.settings
    upstream = upstream or settings.prefect_upstream
    if not upstream:
        raise InputError("须给出 Prefect 服务器地址（--upstream 或 GONGWEN_PREFECT_UPSTREAM）", "--upstream")
    upgrade(ctx.app.db.engine)
    config = gateway_config(ctx.app, upstream=upstream, auth_string=_configured_auth_string())
    host, port = host or settings.gateway_host, port or settings.gateway_port
    ctx.out.done(
        {"gateway": f"http://{host}:{port}", "upstream": upstream}, f"门户：http://{host}:{port}（其后：{upstream}）"
    )
    serve(config, host, port, log=settings.home.resolve() / "access.log", forwarded_from=forwarded_from)


def _configured_auth_string() -> str | None:
    import os

    return os.environ.get("PREFECT_API_AUTH_STRING") or None


@click.command("passwd")
@click.argument("name")
@click.option("--as", "admin", required=True, help="管理员姓名")
@click.option("--pin", required=True, help="管理员的 PIN")
@click.pass_obj
def passwd(ctx: commands.Context, name: str, admin: str, pin: str) -> None:
    """为人员 NAME 生成一次性登录密码（仅显示一次；本人首次登录门户时须改为自己的密码）。"""
    one_time = issue_password(ctx.app.db, name=name, by=Credentials(admin, pin))
    ctx.out.done(
        {"person": name, "one_time_password": one_time},
        f"「{name}」的一次性登录密码：{one_time}\n请当面或经保密渠道交给本人；首次登录门户时须设置自己的密码。",
    )
