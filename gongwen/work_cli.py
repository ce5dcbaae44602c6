"""The 年度宣传工作 commands of the ``gongwen`` command line (bodies in gongwen.work_commands):

plan draft YEAR | plan open YEAR --notice REF --due DATE        年度实施方案与印发通知
receive plan SENDER | receive status YEAR | receive chase YEAR   收文（签收、登记）、催办
info submit | info forward ID | info adopt ID --by … | info list 工作信息
circular YEAR QUARTER                                            季度通报（统计表、图表）
assess YEAR -o FILE.csv [--rules FILE]                           各县（区）考核
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import click

from gongwen import work_commands
from models.errors import InputError
from models.identity import Credentials

DATE = click.DateTime(["%Y-%m-%d"])
YEAR = click.IntRange(2000, 2100)


def AS(command):
    """``--as NAME --pin PIN``: the 经办人, proven by their PIN (both or neither: without them the system
    records it), given to the command as ``name`` (Credentials or None)."""

    @click.option("--pin", default=None, help="经办人的 PIN")
    @click.option("--as", "as_name", default=None, help="经办人（目录中的人员，记入审计日志）")
    @functools.wraps(command)
    def proven(*args, as_name: str | None = None, pin: str | None = None, **kwargs):
        if (as_name is None) != (pin is None):
            raise InputError("--as 与 --pin 须一同给出", "--pin" if pin is None else "--as")
        return command(*args, name=Credentials(as_name, pin) if as_name else None, **kwargs)

    return proven


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


@click.group()
def plan() -> None:
    """年度宣传工作实施方案及其印发通知。"""


@plan.command("draft")
@click.argument("year", type=YEAR)
@click.option("--due", type=DATE, help="各单位报送年度方案的期限（默认 45 天后）")
@click.option("--national-title", help="全国打击侵权假冒工作领导小组办公室通知的标题")
@click.option("--national-ref", help="该通知的发文字号，如 打假办发〔2023〕1号")
@click.option("--as", "name", default=None, help="拟稿人（默认上一年度通知的拟稿人）")
@click.pass_obj
def plan_draft(ctx, year: int, due, national_title: str | None, national_ref: str | None, name: str | None) -> None:
    """依上一年度方案拟稿 YEAR 年度实施方案及印发通知（年份、全国通知文号更新，正文留待修改）。"""
    work_commands.plan_draft(ctx, year, _day(due), national_title, national_ref, name)


@plan.command("open")
@click.argument("year", type=YEAR)
@click.option("--notice", required=True, help="印发通知的发文字号或公文编号")
@click.option("--due", type=DATE, required=True, help="各单位报送年度方案的期限")
@AS
@click.pass_obj
def plan_open(ctx, year: int, notice: str, due, name: Credentials | None) -> None:
    """指定 YEAR 年度的印发通知（在 gongwen 之外拟稿的，如种子通知）及方案报送期限。"""
    work_commands.plan_open(ctx, year, notice, _day(due), name)


@click.group()
def receive() -> None:
    """收文：各单位报送的年度宣传工作方案。"""


@receive.command("plan")
@click.argument("sender")
@click.option("--year", type=YEAR, help="年度（默认收文日期所在年度）")
@click.option("--on", type=DATE, help="收文日期（默认今天）")
@click.option("--title", help="来文标题")
@AS
@click.pass_obj
def receive_plan(ctx, sender: str, year: int | None, on, title: str | None, name: Credentials | None) -> None:
    """签收并登记 SENDER 报送的年度方案，编收文编号。"""
    work_commands.receive_plan(ctx, sender, year, _day(on), title, name)


def _year_at(body):
    """A ``receive`` command of YEAR and --at DATE (default today) whose body is ``body``."""

    @click.argument("year", type=YEAR)
    @click.option("--at", type=DATE, help="按此日期判断逾期（默认今天）")
    @click.pass_obj
    def command(ctx, year: int, at) -> None:
        body(ctx, year, _day(at))

    command.__doc__ = body.__doc__
    return command


receive.command("status", help="各单位年度方案的报送情况（按期、逾期、未报，催办次数）。")(
    _year_at(work_commands.receive_status)
)
receive.command("chase", help="催办逾期未报送年度方案的单位（每隔 GONGWEN_REMIND_AFTER_DAYS 天再催）。")(
    _year_at(work_commands.receive_chase)
)


@click.group()
def info() -> None:
    """工作信息：报送、推送省办、采用。"""


@info.command("submit")
@click.option("--unit", required=True, help="报送单位（成员单位或县（区））")
@click.option("--title", required=True, help="信息标题")
@click.option("--date", "date", required=True, help="报送日期 YYYY-MM-DD")
@click.option(
    "--channel",
    default="电子邮件",
    show_default=True,
    help="报送渠道：电子邮件、政务内网、公文交换系统、传真、纸质材料",
)
@click.option("--year", type=YEAR, help="年度（默认报送日期所在年度）")
@AS
@click.pass_obj
def info_submit(
    ctx, unit: str, title: str, date: str, channel: str, year: int | None, name: Credentials | None
) -> None:
    """登记一条工作信息，输出其编号。"""
    work_commands.info_submit(ctx, unit, title, date, channel, year, name)


def _report_id(value: str) -> int:
    if not value.isdigit():
        raise click.BadParameter(f"工作信息编号应为正整数：{value}")
    return int(value)


def _marking(command):
    """REPORT, --on DATE, --as NAME: what 推送 and 采用 take."""
    for decorator in (
        click.pass_obj,
        AS,
        click.option("--on", type=DATE, help="日期（默认今天）"),
        click.argument("report", callback=lambda _c, _p, v: _report_id(v)),
    ):
        command = decorator(command)
    return command


@info.command("forward")
@_marking
def info_forward(ctx, report: int, on, name: Credentials | None) -> None:
    """市领导小组办公室将工作信息推送省领导小组办公室。"""
    work_commands.info_mark(ctx, report, work_commands.Outcome.FORWARDED, _day(on), name)


@info.command("adopt")
@click.option(
    "--by", type=click.Choice(["province", "national"]), required=True, help="province：省简报；national：国家网站"
)
@_marking
def info_adopt(ctx, report: int, by: str, on, name: Credentials | None) -> None:
    """工作信息被省领导小组办公室工作简报或中国打击侵权假冒工作网采用。"""
    work_commands.info_adopt(ctx, report, by, _day(on), name)


@info.command("list")
@click.argument("year", type=YEAR)
@click.pass_obj
def info_list(ctx, year: int) -> None:
    """YEAR 年度的工作信息及其推送、采用情况。"""
    work_commands.info_list(ctx, year)


@click.command()
@click.argument("year", type=YEAR)
@click.argument("quarter", type=click.IntRange(1, 4))
@click.option("--at", type=DATE, help="拟稿日期（默认今天；季度最后一天起方可通报）")
@click.option("--as", "name", default=None, help="拟稿人（默认当年印发通知的拟稿人）")
@click.option("-o", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="草稿与图表的输出目录")
@click.pass_obj
def circular(ctx, year: int, quarter: int, at, name: str | None, out_dir: Path | None) -> None:
    """拟稿 YEAR 年第 QUARTER 季度工作信息报送情况通报（统计表作附件），输出草稿 .docx 与图表 PNG。"""
    work_commands.circular(ctx, year, quarter, _day(at), name, out_dir)


@click.command()
@click.argument("year", type=YEAR)
@click.option("-o", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="输出的 .csv")
@click.option("--rules", type=click.Path(dir_okay=False, path_type=Path), help="考核规则（YAML，各项分值）")
@click.option("--at", type=DATE, help="按此日期判断年度方案是否逾期未报（默认今天）")
@click.pass_obj
def assess(ctx, year: int, out: Path, rules: Path | None, at) -> None:
    """各县（区）YEAR 年度宣传成效考核：得分与名次，导出 CSV。"""
    work_commands.assess(ctx, year, out, rules, _day(at))


COMMANDS = (plan, receive, info, circular, assess)
