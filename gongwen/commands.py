"""The bodies of the CLI commands: parse input, call storage, report the result.

Input files are read and validated before the database is opened, so bad input
writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from actions import deciding, distribution, drafting, issuing
from actions import directory as directory_actions
from doc_templates import print_document
from gongwen import lifecycle
from gongwen.app import App
from gongwen.converter_service import ConverterProcess
from gongwen.converter_service import serve as serve_converters
from gongwen.demo import run_demo
from gongwen.desk import Desk
from gongwen.files import read_yaml, write_files
from gongwen.gateway.serving import gateway_config, serve_in_thread
from gongwen.keys import prefect_auth_string
from gongwen.output import Output
from gongwen.server import prefect_environment, running_prefect_server, serve_deployments
from gongwen.settings import load_settings
from models.directory import parse_directory
from models.distribution import DeliveryStatus
from models.errors import InputError, ServiceUnavailable
from models.identity import Credentials
from models.lifecycle import Action, State
from models.refno import ReferenceNumber
from models.rules import check_spec
from models.spec import DocumentSpec, parse_spec
from models.tables import Delivery, DeliveryPublic, Document
from storage import audit_log, deliveries, documents, review
from storage.directory_store import load_directory, pin_hashes
from storage.migrations import upgrade


@dataclass
class Context:
    """Per-invocation state: the --home override and the output."""

    home: Path | None
    out: Output

    @cached_property
    def app(self) -> App:
        return App(load_settings(home=self.home))

    def close(self) -> None:
        """At the end of the command: the app's database connections closed (App.close)."""
        if "app" in vars(self):
            self.app.close()


def _read_spec(ctx: Context, path: Path) -> tuple[DocumentSpec, list[str]]:
    """A spec file, validated; control-character warnings are shown to the user."""
    spec, warnings = parse_spec(read_yaml(path, "SPEC"))
    for warning in warnings:
        ctx.out.note(f"警告：{warning}")
    return spec, warnings


def db_upgrade(ctx: Context) -> None:
    upgrade(ctx.app.db.engine)
    ctx.out.done({"ok": True}, "数据库已是最新版本")


def org_load(ctx: Context, file: Path, name: str | None, pin: str | None) -> None:
    directory = parse_directory(read_yaml(file, "FILE"), stored=lambda: _stored_pin_hashes(ctx.app))
    by = Credentials(name, pin) if name is not None and pin is not None else None
    notes = directory_actions.load(ctx.app.db, directory=directory, by=by)
    for note in notes:
        ctx.out.note(f"注意：{note}")
    counts = {"agencies": len(directory.agencies), "people": len(directory.people), "groups": len(directory.groups)}
    ctx.out.done(
        counts,
        f"已载入目录：{counts['agencies']} 个机关，{counts['people']} 名人员，{counts['groups']} 个分组",
    )


def _stored_pin_hashes(app: App) -> dict[str, str]:
    with app.db.transaction() as session:
        return pin_hashes(session)


def draft(ctx: Context, path: Path, name: str, pin: str) -> None:
    spec, warnings = _read_spec(ctx, path)
    document = drafting.draft(ctx.app.db, spec=spec, by=Credentials(name, pin), warnings=warnings)
    ctx.out.done({"id": document.id, "warnings": warnings}, f"已创建草稿，编号 {document.id}：{document.title}")


def revise(ctx: Context, doc: int, path: Path, name: str | None, pin: str | None, note: str) -> None:
    """修改 a 草稿 (after 退回修改: with 重新送审); for a document carried by a lifecycle run, by its 修改单."""
    spec, _ = _read_spec(ctx, path)
    db = ctx.app.db
    here = lambda: drafting.revise(db, document_id=doc, spec=spec, by=_proven(name, pin), note=note)  # noqa: E731
    answer = {"action": review.RESUBMIT, "note": note, "spec": spec.model_dump(mode="json")}
    now, _ = _through_run(ctx, doc, answer, here, name)
    resubmitted = f"并重新送审，当前：{now.state.label}，待 {'、'.join(now.eligible)} 办理" if now.round else ""
    ctx.out.done(
        {"id": doc, "version": now.version, "state": now.state.value, "round": now.round},
        f"公文 {doc} 已修改为第 {now.version} 稿{resubmitted}",
    )


def _proven(name: str | None, pin: str | None) -> Credentials:
    """The person of a command without a server: name and PIN, both required."""
    if name is None or pin is None:
        raise InputError("没有经门户办理时须给出 --as 与 --pin", "--pin" if name else "--as")
    return Credentials(name, pin)


def _signed_in(desk: Desk, name: str | None) -> str:
    """The person a command acts as through the 门户: the desk's signed-in person; ``--as``, if given, must
    name them."""
    person = desk.whoami()
    if name is not None and name != person:
        raise InputError(f"登录门户的是「{person}」，与 --as「{name}」不符", "--as")
    return person


def _through_run(ctx: Context, doc: int, answer: dict, here, name: str | None) -> tuple[review.ReviewStage, str]:
    """Apply a person's action: by answering, through the 门户, the form of the lifecycle run that carries
    the document (which applies it with the same action), else ``here``; the document's stage afterwards
    and who acted."""
    db = ctx.app.db
    run_id = review.bound_run(db, document_id=doc)
    if run_id is None:
        here()
        return review.stage(db, document_id=doc), name
    desk = _required_desk(ctx, doc)
    person = _signed_in(desk, name)
    lifecycle.answer_form(db, desk, run_id, document_id=doc, answer=answer, person=person, here=here)
    return review.stage(db, document_id=doc), person


def show(ctx: Context, doc: int) -> None:
    with ctx.app.db.transaction() as session:
        document = documents.get(session, document_id=doc)
        decisions = documents.decisions(session, document_id=doc)
    data = {
        "id": document.id,
        "title": document.title,
        "doc_type": document.doc_type,
        "state": document.state,
        "state_label": State(document.state).label,
        "ref": document.ref,
        "drafter": document.drafter,
        "version": document.version,
        "route": {"review": document.review, "cosign": document.cosign, "sign": document.sign},
        "decisions": [
            {
                "round": d.round,
                "step": d.step,
                "person": d.person,
                "approve": d.approve,
                "opinion": d.opinion,
                "at": d.decided_at.isoformat(),
            }
            for d in decisions
        ],
    }
    lines = [
        f"公文 {document.id}：{document.title}",
        f"文种：{document.doc_type}　状态：{State(document.state).label}　发文字号：{document.ref or '（未登记）'}",
        f"拟稿：{document.drafter}　核稿：{'、'.join(document.review) or '无'}　"
        f"会签：{'、'.join(document.cosign) or '无'}　签发：{document.sign}",
        *(
            f"  第{d.round}轮 {d.step} {d.person}：{'同意' if d.approve else '退回修改'}"
            + (f"（{d.opinion}）" if d.opinion else "")
            for d in decisions
        ),
    ]
    ctx.out.done(data, "\n".join(lines))


def submit(ctx: Context, doc: int, name: str | None, pin: str | None) -> None:
    """送审; with a Prefect server configured, through the 门户: the document's lifecycle run carries it."""
    here = lambda: drafting.submit(ctx.app.db, document_id=doc, by=_proven(name, pin))  # noqa: E731
    with ctx.app.db.transaction() as session:
        document = documents.get(session, document_id=doc)
        returned, spec = document.round > 0 and document.state == State.DRAFT, documents.spec_of(document)
    if returned and document.flow_run_id is not None:  # a returned draft: its run's 修改单 takes the 重新送审
        answer = {"action": review.RESUBMIT, "note": "", "spec": spec.model_dump(mode="json")}
        now, _ = _through_run(ctx, doc, answer, here, name)
        ctx.out.done({"id": doc, "state": now.state.value}, f"公文 {doc} 已送审，当前：{now.state.label}")
        return
    desk = _desk(ctx)
    if desk is None:
        state = here()
        ctx.out.done({"id": doc, "state": state.value}, f"公文 {doc} 已送审，当前：{state.label}")
        return
    _signed_in(desk, name)
    run_id, now = lifecycle.start(ctx.app.db, desk, document_id=doc)
    if now is None:
        with ctx.app.db.transaction() as session:
            state = State(documents.get(session, document_id=doc).state)
        ctx.out.done(
            {"id": doc, "state": state.value, "flow_run_id": run_id, "waiting_for": [], "run_started": False},
            f"公文 {doc} 已交流程运行 {run_id} 送审；服务器繁忙，{desk.timeout:.0f} 秒内该运行尚未显示第一张表单，"
            f"它会接着办理（可用 gongwen show {doc} 或在 Prefect 界面查看）",
        )
        return
    ctx.out.done(
        {
            "id": doc,
            "state": now.state.value,
            "flow_run_id": run_id,
            "waiting_for": list(now.eligible),
            "run_started": True,
        },
        f"公文 {doc} 已送审（流程运行 {run_id}），当前：{now.state.label}，待 {'、'.join(now.eligible)} 办理",
    )


def decide(ctx: Context, doc: int, name: str | None, pin: str | None, approve: bool, opinion: str) -> None:
    """核稿 / 会签 / 签发; for a document carried by a lifecycle run, by answering the run's form."""
    db = ctx.app.db
    here = lambda: deciding.decide(db, document_id=doc, by=_proven(name, pin), approve=approve, opinion=opinion)  # noqa: E731
    verdict = (Action.APPROVE if approve else Action.RETURN).label
    step = review.stage(db, document_id=doc).step
    now, person = _through_run(ctx, doc, {"verdict": verdict, "opinion": opinion}, here, name)
    pending = now.eligible if now.step == step else ()
    waiting = f"，尚待：{'、'.join(pending)}" if pending else ""
    ctx.out.done(
        {"id": doc, "step": step, "state": now.state.value, "pending": list(pending)},
        f"{person} {step}：{verdict}。公文 {doc} 当前：{now.state.label}{waiting}",
    )


def resume(ctx: Context, doc: int) -> None:
    """继续办理 a document whose lifecycle run stopped without finishing (the server's own act, on its machine)."""
    db = ctx.app.db
    run_id = review.bound_run(db, document_id=doc)
    if run_id is None and review.stage(db, document_id=doc).waiting and _desk(ctx) is not None:
        run_id, now = lifecycle.carry(db, _server_desk(ctx), document_id=doc)  # submitted while the server was down
        text = f"公文 {doc} 已交流程运行 {run_id} 办理" + (f"，当前：{now.state.label}" if now else "")
        ctx.out.done({"id": doc, "flow_run_id": run_id, "message": text}, text)
        return
    if run_id is None:
        raise InputError(f"公文 {doc} 没有流程运行；可直接用 gongwen issue / distribute 继续办理", "DOC")
    _required_desk(ctx, doc)  # a server is configured
    text = lifecycle.resume(db, _server_desk(ctx), run_id, document_id=doc)
    ctx.out.done({"id": doc, "flow_run_id": run_id, "message": text}, text)


def _desk(ctx: Context) -> Desk | None:
    settings = ctx.app.settings
    return Desk(settings.prefect_api_url, timeout=settings.wait_seconds) if settings.prefect_api_url else None


def _server_desk(ctx: Context) -> Desk:
    """The server's own client, on its machine: the Prefect server at GONGWEN_SERVER_PORT with the home's
    auth string (gongwen.keys) — for what the server does itself (ending a run whose document was
    withdrawn), which no person's session may."""
    settings = ctx.app.settings
    auth = prefect_auth_string(settings.home.resolve(), os.environ.get("PREFECT_API_AUTH_STRING"))
    url = f"http://127.0.0.1:{settings.server_port}/api"
    return Desk(url, timeout=settings.wait_seconds, auth_string=auth)


def _required_desk(ctx: Context, doc: int) -> Desk:
    desk = _desk(ctx)
    if desk is None:
        raise ServiceUnavailable(
            f"公文 {doc} 由流程运行办理，请设置 PREFECT_API_URL 指向 Prefect 服务器（gongwen server）"
        )
    return desk


def withdraw(ctx: Context, doc: int, name: str | None, pin: str | None) -> None:
    """撤销; a lifecycle run that carried the document waiting on a 审核单 is ended with it."""
    here = lambda: drafting.withdraw(ctx.app.db, document_id=doc, by=_proven(name, pin))  # noqa: E731
    now, _ = _through_run(ctx, doc, {"action": "撤销", "note": ""}, here, name)
    run_id = review.bound_run(ctx.app.db, document_id=doc)
    if run_id is not None:  # withdrawn while its run waited on a 审核单: that run has nothing left to do
        desk = _server_desk(ctx)
        if desk.state(run_id).is_paused():
            desk.cancel(run_id, "公文已撤销")
    ctx.out.done({"id": doc, "state": now.state.value}, f"公文 {doc} 已撤销")


def archive(ctx: Context, doc: int) -> None:
    settings = ctx.app.settings
    record = issuing.archive(
        ctx.app.db,
        ctx.app.archive_store,
        document_id=doc,
        store_name=settings.archive,
        lock_mode=settings.archive_lock_mode,
    )
    ctx.out.done(
        {"id": doc, "archive_code": record.archive_code, "manifest_sha256": record.manifest_sha256},
        f"公文 {doc} 已归档，档号 {record.archive_code}",
    )


def issue(ctx: Context, docs: tuple[int, ...], out_dir: Path | None) -> None:
    """发文办理 of one or more 已签发 documents, in order; a batch prints on one LibreOffice (App.converter_for)."""
    app = ctx.app
    results = []
    with app.converter_for(len(docs)) as converter:
        for doc in docs:
            issued = issuing.issue(
                app.db,
                app.archive_store,
                app.mail_channel,
                document_id=doc,
                store_name=app.settings.archive,
                mail=app.mail_options,
                lock_mode=app.settings.archive_lock_mode,
                converter=converter,
            )
            one_folder = out_dir if out_dir and len(docs) == 1 else (out_dir or app.settings.home / "issued") / str(doc)
            results.append(_issued_output(doc, issued, write_files(one_folder, issued.files)))
    if len(docs) == 1:
        ctx.out.done(*results[0])
    else:
        ctx.out.done({"issued": [data for data, _ in results]}, "\n\n".join(text for _, text in results))


def _issued_output(doc: int, issued: issuing.Issued, paths: list[Path]) -> tuple[dict, str]:
    pages = f"，PDF {issued.pages} 页" if issued.pages else ""
    data = {
        "id": doc,
        "ref": str(issued.ref),
        "archive_code": issued.archive_code,
        "files": [str(p) for p in paths],
        "pages": issued.pages,
        "dispatch": dispatch_data(issued.dispatch),
    }
    text = (
        f"公文 {doc} 已登记、印制并归档：发文字号 {issued.ref}，档号 {issued.archive_code}{pages}\n"
        + "\n".join(str(p) for p in paths)
        + "\n"
        + dispatch_text(issued.dispatch)
    )
    return data, text


def dispatch_data(report: distribution.DispatchReport) -> dict:
    """A 核发 report as the JSON output shows it."""
    return {
        "id": report.document_id,
        "state": report.state.value,
        "sent": report.sent_now,
        "by_status": report.by_status,
        "by_role": report.by_role,
        "failed": report.failed,
        "uncertain": report.uncertain,
    }


def dispatch_text(report: distribution.DispatchReport) -> str:
    """A 核发 report for people."""
    statuses = "，".join(f"{DeliveryStatus(s).label} {n}" for s, n in report.by_status.items())
    roles = "，".join(f"{role} {n}" for role, n in report.by_role.items())
    doc = report.document_id
    lines = [f"核发：本次发出 {report.sent_now} 份；{statuses}（{roles}）；公文当前：{report.state.label}"]
    lines += [f"  失败 {name}：{error}" for name, error in report.failed.items()]
    if report.failed:
        lines.append(
            f"  （目录中的地址更正后，可执行 gongwen distribute {doc} --retry-failed --as 姓名 --pin PIN 重发）"
        )
    lines += [f"  发送状态不明（上次核发中断）：{name}" for name in report.uncertain]
    if report.uncertain:
        lines.append(
            f"  （请向收文单位或邮件服务器核实后执行 gongwen settle {doc} --recipient 名称 --sent 或 --unsent"
            " --as 姓名 --pin PIN）"
        )
    return "\n".join(lines)


def distribute(ctx: Context, doc: int, registrar: tuple[str, str] | None) -> None:
    """核发; with ``registrar`` (name, PIN), first put the 失败 deliveries back to 待发送."""
    app = ctx.app
    if registrar is None:
        report = distribution.dispatch(
            app.db, app.mail_channel, document_id=doc, options=app.mail_options, store=app.archive_store
        )
        ctx.out.done(dispatch_data(report), dispatch_text(report))
        return
    name, pin = registrar
    reopened, report = distribution.retry_failed(
        app.db,
        app.mail_channel,
        document_id=doc,
        by=name,
        pin=pin,
        options=app.mail_options,
        store=app.archive_store,
    )
    retried = [
        {
            "recipient": r.delivery.recipient,
            "address": r.delivery.address,
            "previous_address": r.previous_address,
            "previous_error": r.previous_error,
        }
        for r in reopened
    ]
    ctx.out.done(
        {**dispatch_data(report), "retried": retried},
        "\n".join(
            [
                f"重发失败的分发 {len(retried)} 份：",
                *(f"  {r['recipient']}：{r['previous_address']} → {r['address']}" for r in retried),
                dispatch_text(report),
            ]
        ),
    )


def settle(ctx: Context, ref: str, recipient: str, sent: bool, name: str, pin: str) -> None:
    with ctx.app.db.transaction() as session:
        document_id = _document_by_ref(session, ref).id
    settlement = deliveries.Settlement(document_id, recipient, sent, name, pin)
    delivery, state = distribution.settle(ctx.app.db, settlement)
    if sent:
        text = f"「{delivery.recipient}」核实为已收到，记为已发送（签收码仍有效）"
    else:
        text = f"「{delivery.recipient}」核实为未收到，已退回待发送；执行 gongwen distribute {document_id} 发出"
    ctx.out.done(
        {
            "id": document_id,
            "recipient": delivery.recipient,
            "status": delivery.status,
            "outcome": settlement.outcome,
            "state": state.value,
        },
        f"{text}。公文 {document_id} 当前：{state.label}",
    )


def ack(ctx: Context, ref: str | None, recipient: str | None, code: str | None) -> None:
    if code is not None:
        if ref is not None or recipient is not None:
            raise InputError("按签收码签收时不再给出发文字号或收文单位", "code")
        delivery = distribution.acknowledge_code(ctx.app.db, code=code)
    else:
        if ref is None or recipient is None:
            raise InputError("请给出发文字号和 --recipient 收文单位，或使用 --code 签收码", "recipient")
        with ctx.app.db.transaction() as session:
            document_id = _document_by_ref(session, ref).id
        delivery = distribution.acknowledge_name(ctx.app.db, document_id=document_id, recipient=recipient)
    ctx.out.done(
        {
            "id": delivery.document_id,
            "recipient": delivery.recipient,
            "status": delivery.status,
            "by": delivery.acked_by,
        },
        f"「{delivery.recipient}」已签收（公文 {delivery.document_id}）",
    )


def remind(ctx: Context, at: dt.datetime | None) -> None:
    app = ctx.app
    now = at.astimezone(dt.UTC) if at else dt.datetime.now(dt.UTC)
    report = distribution.remind(app.db, app.mail_channel, policy=app.chase_policy, options=app.mail_options, now=now)

    def row(delivery: Delivery) -> dict:
        return DeliveryPublic.model_validate(delivery, from_attributes=True).model_dump(mode="json")

    ctx.out.done(
        {
            "reminded": [row(d) for d in report.reminded],
            "escalated": report.escalated,
            "overdue": [row(d) for d in report.overdue],
        },
        "\n".join(
            [
                f"催办：发出 {len(report.reminded)} 份，升级 {sum(map(len, report.escalated.values()))} 个单位；"
                f"逾期未签收 {len(report.overdue)} 个：",
                *(
                    f"  公文 {d.document_id} {d.recipient}（{d.sent_at:%Y-%m-%d} 发送，已催办 {d.reminders} 次）"
                    for d in report.overdue
                ),
            ]
        ),
    )


def render(ctx: Context, path: Path, out_docx: Path, out_pdf: Path | None, pdfa: bool) -> None:
    spec, _ = _read_spec(ctx, path)
    with ctx.app.db.transaction() as session:
        directory = load_directory(session)
    check_spec(spec, directory, for_render=True)
    with ctx.app.converter_for(1) as converter:
        printed = print_document(
            spec, directory, ref=spec.reference, out_docx=out_docx, out_pdf=out_pdf, pdfa=pdfa, converter=converter
        )
    pdf = f"，{printed.pdf}（{printed.pages} 页）" if printed.pdf else ""
    ctx.out.done(
        {"docx": str(printed.docx), "pdf": str(printed.pdf) if printed.pdf else None, "pages": printed.pages},
        f"已生成 {printed.docx}{pdf}",
    )


def _document_by_ref(session, ref: str) -> Document:
    if ref.isdigit():
        return documents.get(session, document_id=int(ref))
    ReferenceNumber.parse(ref, "REF")
    return documents.find_by_ref(session, ref=ref)


def audit_trail(ctx: Context, ref: str) -> None:
    with ctx.app.db.transaction() as session:
        document = _document_by_ref(session, ref)
        entries = audit_log.trail(session, document_id=document.id)
    rows = [
        {"id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "detail": e.detail, "hash": e.hash}
        for e in entries
    ]
    text = "\n".join(f"#{e.id} {e.at} {e.actor} {e.action} {e.detail}" for e in entries)
    ctx.out.done({"id": document.id, "ref": document.ref, "events": rows}, text or "（无记录）")


def demo(ctx: Context, example: Path | None, port: int | None, keep: bool) -> None:
    run_demo(ctx, example, port, keep)


def server(ctx: Context, port: int | None) -> None:
    settings = ctx.app.settings
    home = settings.home.resolve()
    upgrade(ctx.app.db.engine)  # the schema is up to date before any flow run opens the database
    converters = None if settings.converter_url else ConverterProcess(home)  # starts beside the Prefect server
    try:
        with running_prefect_server(home, port or settings.server_port) as prefect:
            os.environ.update(prefect_environment(home, prefect))
            os.environ["GONGWEN_HOME"] = str(home)
            if converters is not None and converters.wait_until_healthy():
                os.environ["GONGWEN_CONVERTER_URL"] = converters.url  # the flow runs print through it
            elif converters is not None:
                ctx.out.note(converters.problem())
            converter_url = os.environ.get("GONGWEN_CONVERTER_URL")
            gateway = f"http://{settings.gateway_host}:{settings.gateway_port}"
            config = gateway_config(ctx.app, upstream=prefect.ui_url)
            serve_in_thread(config, settings.gateway_host, settings.gateway_port, log=home / "access.log")
            ctx.out.done(
                {"gateway": gateway, "api": prefect.api_url, "home": str(home), "converter": converter_url},
                f"门户（登录后使用 Prefect 界面）：{gateway}\nPrefect API（仅本机，须认证串）：{prefect.api_url}\n"
                f"数据目录：{home}\nPDF 转换服务：{converter_url or '无（逐份启动 LibreOffice）'}\n按 Ctrl-C 停止。",
            )
            serve_deployments()
    finally:
        if converters is not None:
            converters.stop()


def converter_serve(ctx: Context, host: str, port: int, parent: int | None) -> None:
    serve_converters(ctx.app.settings, ctx.out, host, port, parent)
