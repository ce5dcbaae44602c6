"""``gongwen demo``: the seed scenario end to end on the embedded default.

A fresh home under ``<GONGWEN_HOME>/demo/<time>`` (SQLite, local folders) so a
demo never touches real data: load the 开封市 directory, draft the seed notice
as its drafter, 送审, 核稿 and 签发 with the directory's demo PINs, then 登记
(汴打假〔2022〕3号), 印制 (.docx and PDF/A through LibreOffice), 归档 into
the local archive and 核发 to the outbox folder (one .eml per recipient, by role
主送 / 抄报 / 抄送), after which an auditor verifies the archive (四性检测).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from doc_templates import reading
from flows import issuing
from gongwen.app import App
from gongwen.files import read_yaml, write_files
from gongwen.settings import Settings, load_settings
from models.directory import parse_directory
from models.errors import InputError, VerificationFailed
from models.spec import parse_spec
from storage import archive_checks, archiving, audit_log, transitions
from storage.directory_store import save_directory

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kaifeng"


def run_demo(ctx, example: Path | None) -> None:
    example = example or EXAMPLE
    if not (example / "directory.yaml").is_file():
        raise InputError(f"找不到示例目录文件 {example / 'directory.yaml'}", "example")
    raw_directory = read_yaml(example / "directory.yaml", "directory.yaml")
    directory = parse_directory(raw_directory)
    pins = {p["name"]: p["pin"] for p in raw_directory["people"]}
    spec, warnings = parse_spec(read_yaml(example / "notice.yaml", "notice.yaml"))

    base = load_settings(home=ctx.home).home
    home = base / "demo" / dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    app = App(Settings(home=home, database_url=None, archive="local", mail="outbox"))
    db = app.db
    say = ctx.out.note
    say(f"演示数据目录：{home}")

    with db.transaction() as session:
        save_directory(session, directory=directory)
        audit_log.append(session, actor=transitions.SYSTEM, action="directory_loaded", detail={"source": "demo"})
    say(f"1. 载入目录：{len(directory.agencies)} 个机关，{len(directory.people)} 名人员")

    drafter = next(p.name for p in directory.people if "drafter" in p.roles)
    document = transitions.draft(db, spec=spec, drafter=drafter, warnings=warnings)
    say(f"2. 拟稿：{drafter} 起草《{spec.title}》（编号 {document.id}）")

    transitions.submit(db, document_id=document.id)
    say("3. 送审")
    route = [(name, "核稿") for name in document.review] + [(name, "会签") for name in document.cosign]
    route.append((document.sign, "签发"))
    for name, step in route:
        outcome = transitions.decide(
            db, document_id=document.id, name=name, pin=pins[name], approve=True, opinion="同意"
        )
        say(f"   {step}：{name} 同意 → {outcome.state.label}")

    issued = issuing.issue(
        db, app.archive_store, app.mail_channel, document_id=document.id, store_name="local", mail=app.mail_options
    )
    number = issued.ref
    say(f"4. 登记：发文字号 {number}")
    paths = write_files(home / "issued", issued.files)
    say(f"5. 印制：{'、'.join(p.name for p in paths)}（PDF/A，{issued.pages} 页）→ {home / 'issued'}")
    say(f"6. 归档：档号 {issued.archive_code} → {home / 'archive'}")
    roles = "，".join(f"{role} {n}" for role, n in issued.dispatch.by_role.items())
    say(f"7. 核发：{issued.dispatch.sent_now} 份（{roles}）→ {home / 'outbox'}")
    with db.transaction() as session:
        record = archiving.find_record(session, document_id=document.id)
        checks = [archive_checks.check_chain(session)] + archive_checks.check_package(
            session, app.archive_store, record, reading, dt.datetime.now(dt.UTC)
        )
    ok = all(check.ok for check in checks)
    say(f"8. 四性检测（审计员）：{'全部通过' if ok else '有失败项'}")
    for check in checks:
        say(f"   {'通过' if check.ok else '失败'} {check.property}·{check.name}：{check.detail}")
    ctx.out.done(
        {
            "id": document.id,
            "ref": str(number),
            "archive_code": issued.archive_code,
            "home": str(home),
            "files": [str(p) for p in paths],
            "pages": issued.pages,
            "verified": ok,
            "dispatched": issued.dispatch.sent_now,
            "by_role": issued.dispatch.by_role,
        },
        f"完成：{number}（档号 {issued.archive_code}）",
    )
    if not ok:
        raise VerificationFailed("归档公文的四性检测未通过")
