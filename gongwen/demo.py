"""``gongwen demo``: the seed scenario end to end, through the Prefect server, as people would do it.

A fresh home under ``<GONGWEN_HOME>/demo/<time>`` (SQLite, local archive, outbox)
so a demo never touches real data. The directory of 开封市 is loaded, then
``gongwen server`` starts (the 门户, the Prefect server and every deployment), and the
demo plays each person through the 门户 with the calls the UI makes, each signed in
(the demo opens their sessions directly in gongwen's database):

1. the drafter fills in the draft-document form (the seed notice, but without
   its 抄送 line) and it goes to review;
2. the reviewer returns it on the 核稿 form: the 抄送 is missing;
3. the drafter answers the 修改单 with the complete notice and 重新送审;
4. the reviewer agrees, the two 会签 parties agree (the second first), the
   signer signs;
5. the run issues it by itself: 汴打假〔2022〕3号, .docx and PDF/A, archived;
   the issued event starts distribute-document, which sends it to the outbox;
6. the night's anchor-audit-log run puts the audit chain's head into the archive (审计链锚点);
7. an auditor runs audit-retrieve: the 四性检测 of the archived package.

It prints a short summary and exits 0; ``--keep`` leaves the server running.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actions import directory as directory_actions
from flows.served_names import ANCHOR, AUDIT_RETRIEVE, DISTRIBUTE, DRAFT
from gongwen.app import App
from gongwen.desk import Desk
from gongwen.files import read_yaml, write_files
from gongwen.server import PrefectServer, free_port, prefect_environment, spawn_server, stop_server
from gongwen.settings import Settings, load_settings
from models.directory import parse_directory
from models.errors import InputError, VerificationFailed
from models.spec import parse_spec
from storage import review, sign_in_sessions
from storage.printing import printed_files

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kaifeng"
COSIGNERS = ("赵丽", "王强")
AUDITOR = "孙敏"  # the auditor of examples/kaifeng/directory.yaml
#: Variables that would point the demo at real services; the demo runs on the embedded default.
_NOT_FOR_THE_DEMO = (
    "GONGWEN_DATABASE_URL",
    "PREFECT_API_DATABASE_CONNECTION_URL",
    "PREFECT_SERVER_DATABASE_CONNECTION_URL",
)


def run_demo(ctx, example: Path | None, port: int | None, keep: bool) -> None:
    example = example or EXAMPLE
    if not (example / "directory.yaml").is_file():
        raise InputError(f"找不到示例目录文件 {example / 'directory.yaml'}", "example")
    raw_directory = read_yaml(example / "directory.yaml", "directory.yaml")
    directory = parse_directory(raw_directory)
    notice, _ = parse_spec(read_yaml(example / "notice.yaml", "notice.yaml"))
    route = notice.approval.model_copy(update={"cosign": list(COSIGNERS)})
    final = notice.model_copy(update={"approval": route}).to_data()
    first = {key: value for key, value in final.items() if key != "cc"}

    home = (load_settings(home=ctx.home).home / "demo" / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")).resolve()
    app = App(Settings(home=home, database_url=None, archive="local", mail="outbox"))
    say = ctx.out.note
    say(f"演示数据目录：{home}")
    directory_actions.load(app.db, directory=directory)
    say(f"载入目录：{len(directory.agencies)} 个机关，{len(directory.people)} 名人员")

    prefect = PrefectServer(port or free_port())
    for name in _NOT_FOR_THE_DEMO:
        os.environ.pop(name, None)
    gateway_port = free_port()
    os.environ.update(
        {"GONGWEN_HOME": str(home), "GONGWEN_ARCHIVE": "local", "GONGWEN_MAIL": "outbox"}
        | {"GONGWEN_GATEWAY_PORT": str(gateway_port)}
        | prefect_environment(home, prefect)
    )
    server = spawn_server(home, prefect.port)
    gateway = f"http://127.0.0.1:{gateway_port}/api"

    def desk_of(person: str) -> Desk:
        """The person's desk at the 门户: the demo signs its people in directly in gongwen's database (it
        runs beside the server); a person signs in on the gateway's page with password and TOTP."""
        with app.db.transaction() as session:
            token = sign_in_sessions.start(session, name=person, kind=sign_in_sessions.COMMAND_LINE)
        return Desk(gateway, timeout=300, api_key=token)

    try:
        summary = _play(desk_of, app, say, first=first, final=final)
    except BaseException:
        stop_server(server)
        raise
    if keep:
        say(
            f"服务器保持运行：门户 {gateway.removesuffix('/api')}（先用 gongwen org passwd 取一次性密码登录），"
            f"进程 {server.pid}，停止：kill {server.pid}"
        )
    else:
        stop_server(server)
    ctx.out.done(
        {**summary, "home": str(home), "ui": gateway.removesuffix("/api") if keep else None},
        f"完成：{summary['ref']}（档号 {summary['archive_code']}）",
    )
    if not summary["verified"]:
        raise VerificationFailed("归档公文的四性检测未通过")


def _play(desk_of: Callable[[str], Desk], app: App, say, *, first: dict, final: dict) -> dict[str, Any]:
    drafter, reviewer, signer = "郭佳佳", final["approval"]["review"][0], final["approval"]["sign"]
    say("1. 拟稿（draft-document 表单）：郭佳佳 登录门户后起草通知（初稿缺抄送）")
    desks = {drafter: desk_of(drafter)}
    drafted = desks[drafter].finished(desks[drafter].run_deployment(DRAFT, {"spec": first}))
    document_id, run_id = drafted["id"], drafted["lifecycle_run"]
    say(f"   公文编号 {document_id}，流程运行 {run_id}")

    def answer(person: str, values: dict[str, Any], shown: str) -> None:
        desk = desks.setdefault(person, desk_of(person))
        desk.wait(run_id)
        form = desk.form(run_id)
        desk.answer(run_id, values)
        desk.wait(run_id, after_key=form.key)
        now = review.stage(app.db, document_id=document_id)
        waiting = f"，待 {'、'.join(now.eligible)}" if now.eligible else ""
        say(f"   {shown}（门户登录身份）→ {now.state.label}{waiting}")

    say("2. 核稿：退回修改")
    answer(reviewer, {"verdict": "退回修改", "opinion": "请补充抄送单位：各县区人民政府"}, f"{reviewer} 退回修改")
    say("3. 修改单：拟稿人补充抄送后重新送审")
    answer(drafter, {"action": "重新送审", "note": "已补充抄送", "spec": final}, f"{drafter} 重新送审")
    say("4. 核稿、会签（任意顺序）、签发")
    answer(reviewer, {"verdict": "同意", "opinion": "同意"}, f"核稿 {reviewer} 同意")
    for cosigner in reversed(final["approval"]["cosign"]):
        answer(cosigner, {"verdict": "同意", "opinion": "无意见"}, f"会签 {cosigner} 同意")
    answer(signer, {"verdict": "同意", "opinion": "同意印发"}, f"签发 {signer} 同意")
    desk = desks[signer]
    ref = desk.finished(run_id)
    say(f"5. 登记、印制、归档：发文字号 {ref}")
    distributed = desk.finished(desk.triggered_run(DISTRIBUTE, {"document_id": document_id}))
    say(f"6. 核发（由印发事件触发）：{distributed}")
    anchored = desk.finished(desk.run_deployment(ANCHOR, {}))
    say(f"7. 审计链锚点（每日 23:50 自动运行）：链头审计记录 #{anchored['last_id']} 写入归档库 {anchored['key']}")
    auditor = desk_of(AUDITOR)
    retrieved = auditor.finished(auditor.run_deployment(AUDIT_RETRIEVE, {"ref": ref}), failed_ok=True)
    verified = isinstance(retrieved, dict) and retrieved.get("ok") is True
    say(f"8. 档案检索与四性检测（审计员）：{'全部通过' if verified else retrieved}")
    with app.db.transaction() as session:
        files = {name: row.content for name, row in printed_files(session, document_id=document_id).items()}
    paths = write_files(app.settings.home / "issued", files)
    say(f"   印制文件：{'、'.join(str(p) for p in paths)}")
    return {
        "id": document_id,
        "ref": ref,
        "archive_code": retrieved.get("archive_code") if verified else None,
        "files": [str(p) for p in paths],
        "deliveries": distributed,
        "verified": verified,
        "anchor": anchored["key"],
        "flow_run_id": run_id,
    }
