"""The ``gongwen`` command line (design.md §3.3).

Exit codes: 0 done; 1 a verification failed; 2 bad input (the message names the
field, nothing is written); 3 not allowed now (wrong state, person or PIN).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import click

from gongwen import audit_commands, commands, gateway_cli, work_cli
from gongwen.app import PRIVATE_UMASK
from gongwen.output import Output, wants_json
from models.errors import GongwenError, InputError


@click.group()
@click.option("--home", type=click.Path(path_type=Path), help="本地数据目录（默认 GONGWEN_HOME 或 ./.gongwen）")
@click.option("--json", "as_json", is_flag=True, help="以一个 JSON 对象输出结果")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, as_json: bool) -> None:
    """gongwen：党政机关公文的拟稿、审批、登记、印制、分发与归档。"""
    ctx.obj = commands.Context(home=home, out=Output(as_json))
    ctx.call_on_close(ctx.obj.close)


def _doc_id(value: str) -> int:
    if not value.isdigit():
        raise click.BadParameter(f"公文编号应为正整数：{value}")
    return int(value)


DOC = click.argument("doc", callback=lambda _c, _p, v: _doc_id(v))


@cli.group()
def db() -> None:
    """数据库。"""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(ctx: commands.Context) -> None:
    """应用数据库迁移。"""
    commands.db_upgrade(ctx)


@cli.group()
def org() -> None:
    """机构目录（机关、人员、分组）。"""


@org.command("load")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--as", "name", default=None, help="管理员（目录中尚无人员时的首次载入不需要）")
@click.option("--pin", default=None, help="管理员的 PIN")
@click.pass_obj
def org_load(ctx: commands.Context, file: Path, name: str | None, pin: str | None) -> None:
    """载入目录文件（YAML），替换现有目录：须由目录中的管理员以 PIN 证明身份。"""
    if (name is None) != (pin is None):
        raise InputError("--as 与 --pin 须一同给出", "pin" if pin is None else "as")
    commands.org_load(ctx, file, name, pin)


@cli.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--as", "name", required=True, help="拟稿人")
@click.option("--pin", required=True, help="拟稿人的 PIN")
@click.pass_obj
def draft(ctx: commands.Context, spec: Path, name: str, pin: str) -> None:
    """拟稿：由公文内容文件创建草稿，输出其编号。"""
    commands.draft(ctx, spec, name, pin)


@cli.command()
@DOC
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("--as", "name", default=None, help="拟稿人（经门户办理时为登录者本人，可省略）")
@click.option("--pin", default=None, help="拟稿人的 PIN（无服务器时必填）")
@click.option("--note", default="", help="修改说明")
@click.pass_obj
def revise(ctx: commands.Context, doc: int, spec: Path, name: str | None, pin: str | None, note: str) -> None:
    """修改草稿（形成新的版本）；退回修改的草稿随即重新送审。"""
    commands.revise(ctx, doc, spec, name, pin, note)


@cli.command()
@DOC
@click.pass_obj
def show(ctx: commands.Context, doc: int) -> None:
    """查看公文的状态、审批路径和办理意见。"""
    commands.show(ctx, doc)


@cli.command()
@DOC
@click.option("--as", "name", default=None, help="拟稿人（经门户办理时为登录者本人，可省略）")
@click.option("--pin", default=None, help="拟稿人的 PIN（无服务器时必填）")
@click.pass_obj
def submit(ctx: commands.Context, doc: int, name: str | None, pin: str | None) -> None:
    """送审：草稿进入核稿。"""
    commands.submit(ctx, doc, name, pin)


@cli.command()
@DOC
@click.pass_obj
def resume(ctx: commands.Context, doc: int) -> None:
    """继续办理：流程运行因崩溃或服务中断停止后，从头重放（已完成的步骤不会重做）。"""
    commands.resume(ctx, doc)


@cli.command()
@DOC
@click.option("--as", "name", default=None, help="审核人（经门户办理时为登录者本人，可省略）")
@click.option("--pin", default=None, help="审核人的 PIN（无服务器时必填）")
@click.option("--approve/--return", "approve", default=None, help="同意 / 退回修改")
@click.option("--opinion", default="", help="意见")
@click.pass_obj
def decide(
    ctx: commands.Context, doc: int, name: str | None, pin: str | None, approve: bool | None, opinion: str
) -> None:
    """核稿、会签或签发：同意或退回修改。"""
    if approve is None:
        raise click.UsageError("请指定 --approve（同意）或 --return（退回修改）")
    commands.decide(ctx, doc, name, pin, approve, opinion)


@cli.command()
@DOC
@click.option("--as", "name", default=None, help="拟稿人（经门户办理时为登录者本人，可省略）")
@click.option("--pin", default=None, help="拟稿人的 PIN（无服务器时必填）")
@click.pass_obj
def withdraw(ctx: commands.Context, doc: int, name: str | None, pin: str | None) -> None:
    """撤销尚未签发的公文。"""
    commands.withdraw(ctx, doc, name, pin)


@cli.command()
@click.argument("docs", nargs=-1, required=True, callback=lambda _c, _p, v: tuple(_doc_id(d) for d in v))
@click.option(
    "-o",
    "out_dir",
    type=click.Path(path_type=Path),
    help="印制文件的输出目录（默认 GONGWEN_HOME/issued/DOC；多份公文时各在其下的 DOC 子目录）",
)
@click.pass_obj
def issue(ctx: commands.Context, docs: tuple[int, ...], out_dir: Path | None) -> None:
    """登记（编发文字号）、印制（docx 与 PDF/A）、归档并核发已签发的公文（可一次给出多份，依次办理）。"""
    commands.issue(ctx, docs, out_dir)


@cli.command()
@DOC
@click.option("--retry-failed", is_flag=True, help="重发发送失败的分发（收件地址按目录重新读取），须 --as 与 --pin")
@click.option("--as", "name", help="核发人员（须有 registrar 角色）")
@click.option("--pin", help="核发人员的 PIN")
@click.pass_obj
def distribute(ctx: commands.Context, doc: int, retry_failed: bool, name: str | None, pin: str | None) -> None:
    """核发：分发给主送、抄报、抄送单位（可重复执行，已发出的不再重发）。"""
    if retry_failed and (name is None or pin is None):
        raise click.UsageError("重发失败的分发须以 --as 与 --pin 表明核发人员")
    if not retry_failed and (name is not None or pin is not None):
        raise click.UsageError("--as 与 --pin 只用于 --retry-failed")
    commands.distribute(ctx, doc, (name, pin) if retry_failed else None)


@cli.command()
@click.argument("ref")
@click.option("--recipient", required=True, help="发送状态不明的收文单位或人员")
@click.option("--sent/--unsent", "sent", default=None, help="核实已收到（记为已发送）/ 未收到（退回待发送）")
@click.option("--as", "name", required=True, help="核发人员（须有 registrar 角色）")
@click.option("--pin", required=True, help="核发人员的 PIN")
@click.pass_obj
def settle(ctx: commands.Context, ref: str, recipient: str, sent: bool | None, name: str, pin: str) -> None:
    """核实发送状态不明的分发（上次核发中断）：REF 为发文字号或公文编号。"""
    if sent is None:
        raise click.UsageError("请指定 --sent（对方已收到）或 --unsent（未收到，由下次 distribute 发出）")
    commands.settle(ctx, ref, recipient, sent, name, pin)


@cli.command()
@click.argument("ref", required=False)
@click.option("--recipient", help="收文单位或人员（登记其签收）")
@click.option("--code", help="分发邮件中的签收码")
@click.pass_obj
def ack(ctx: commands.Context, ref: str | None, recipient: str | None, code: str | None) -> None:
    """签收：REF --recipient NAME（REF：发文字号或公文编号），或 --code CODE。"""
    commands.ack(ctx, ref, recipient, code)


@cli.command()
@click.option(
    "--at", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]), help="按此时间计算逾期（默认现在，本地时间）"
)
@click.pass_obj
def remind(ctx: commands.Context, at: dt.datetime | None) -> None:
    """催办：向逾期未签收的单位发出催办，多次催办未签收的报发文机关办公室。"""
    commands.remind(ctx, at)


@cli.command()
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "out_docx", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出的 .docx")
@click.option("--pdf", "out_pdf", type=click.Path(dir_okay=False, path_type=Path), help="同时输出 PDF")
@click.option("--pdfa", is_flag=True, help="PDF 采用 PDF/A-2b（归档用）")
@click.pass_obj
def render(ctx: commands.Context, spec: Path, out_docx: Path, out_pdf: Path | None, pdfa: bool) -> None:
    """只排版印制，不进入办理流程（已有发文字号的公文可在 ref 中给出）。"""
    commands.render(ctx, spec, out_docx, out_pdf, pdfa)


@cli.command()
@DOC
@click.pass_obj
def archive(ctx: commands.Context, doc: int) -> None:
    """归档已核发的公文（归档库中断后可重试）。"""
    commands.archive(ctx, doc)


@cli.group()
def audit() -> None:
    """审计：查询、核验。"""


@audit.command("link")
@click.argument("ref")
@click.option("--minutes", type=click.IntRange(1, 7 * 24 * 60), default=60, show_default=True, help="有效分钟数")
@click.pass_obj
def audit_link(ctx: commands.Context, ref: str, minutes: int) -> None:
    """归档文件的限时下载链接（S3 归档库）。"""
    audit_commands.audit_link(ctx, ref, minutes)


@audit.command("trail")
@click.argument("ref")
@click.pass_obj
def audit_trail(ctx: commands.Context, ref: str) -> None:
    """公文的全部办理记录（REF：发文字号或公文编号）。"""
    commands.audit_trail(ctx, ref)


@audit.command("verify")
@click.argument("ref", required=False)
@click.option("--all", "everything", is_flag=True, help="核验全部归档公文")
@click.pass_obj
def audit_verify(ctx: commands.Context, ref: str | None, everything: bool) -> None:
    """四性检测（真实性、完整性、可用性、安全性）；有失败项时退出码为 1。"""
    if bool(ref) == everything:
        raise click.UsageError("请给出发文字号，或使用 --all")
    audit_commands.audit_verify(ctx, ref)


@audit.command("anchor")
@click.pass_obj
def audit_anchor(ctx: commands.Context) -> None:
    """把审计链的当前链头写入归档库（不可改、不可删），此后改写审计日志即可被四性检测发现。"""
    audit_commands.audit_anchor(ctx)


@audit.command("find")
@click.option("--ref", help="发文字号")
@click.option("--year", type=int, help="年度")
@click.option("--issuer", help="发文机关（名称的一部分）")
@click.option("--text", help="标题中的文字")
@click.pass_obj
def audit_find(ctx: commands.Context, ref: str | None, year: int | None, issuer: str | None, text: str | None) -> None:
    """查找归档公文。"""
    audit_commands.audit_find(ctx, ref, year, issuer, text)


@audit.command("get")
@click.argument("ref")
@click.option("-o", "out_dir", required=True, type=click.Path(path_type=Path), help="输出目录")
@click.pass_obj
def audit_get(ctx: commands.Context, ref: str, out_dir: Path) -> None:
    """取出归档公文的原始文件、元数据和办理记录。"""
    audit_commands.audit_get(ctx, ref, out_dir)


@cli.command()
@click.option("--example", type=click.Path(path_type=Path), default=None, help="示例目录（默认 examples/kaifeng）")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Prefect 服务器端口（默认取空闲端口）")
@click.option("--keep", is_flag=True, help="演示结束后保留 Prefect 服务器，供在界面中查看")
@click.pass_obj
def demo(ctx: commands.Context, example: Path | None, port: int | None, keep: bool) -> None:
    """在内置默认环境中走完种子公文的办理流程（经由 Prefect 服务器与流程表单）。"""
    commands.demo(ctx, example, port, keep)


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="端口（默认 GONGWEN_SERVER_PORT 或 4200）")
@click.pass_obj
def server(ctx: commands.Context, port: int | None) -> None:
    """启动 Prefect 服务器并提供全部部署（拟稿、审核表单、发文、核发、签收、催办、档案检索）。"""
    commands.server(ctx, port)


@cli.group()
def converter() -> None:
    """PDF 转换服务（印制用的 LibreOffice 常驻进程池）。"""


@converter.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（容器中用 0.0.0.0）")
@click.option("--port", type=click.IntRange(0, 65535), default=4300, show_default=True, help="端口（0：取空闲端口）")
@click.option("--parent", type=int, default=None, hidden=True, help="该进程退出时随之停止（gongwen server 用）")
@click.pass_obj
def converter_serve(ctx: commands.Context, host: str, port: int, parent: int | None) -> None:
    """提供 PDF 转换服务：GONGWEN_CONVERTERS 个常驻 LibreOffice，供 GONGWEN_CONVERTER_URL 指向它的进程印制。"""
    commands.converter_serve(ctx, host, port, parent)


org.add_command(gateway_cli.passwd)
cli.add_command(gateway_cli.gateway)

for _command in work_cli.COMMANDS:  # 年度宣传工作: plan, receive, info, circular, assess
    cli.add_command(_command)


def global_options_first(argv: list[str]) -> list[str]:
    """Let ``--json`` stand anywhere on the line: move it before the command."""
    head = argv[: argv.index("--")] if "--" in argv else argv
    if "--json" not in head:
        return argv
    return ["--json", *(arg for arg in head if arg != "--json"), *argv[len(head) :]]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the command, map errors to messages and exit codes."""
    argv = global_options_first(sys.argv[1:] if argv is None else argv)
    out = Output(wants_json(argv))
    umask = os.umask(PRIVATE_UMASK)  # what the command creates is gongwen's alone (gongwen.app.PRIVATE_UMASK)
    try:
        code = cli.main(args=argv, prog_name="gongwen", standalone_mode=False)
    except GongwenError as error:
        out.error(error.message, error.field)
        sys.exit(error.exit_code)
    except click.UsageError as error:
        field = getattr(getattr(error, "param", None), "name", None)
        out.error(error.format_message(), field)
        sys.exit(2)
    except click.exceptions.Abort:
        out.error("已取消", None)
        sys.exit(2)
    finally:
        os.umask(umask)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
