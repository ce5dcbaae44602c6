"""四性检测 of the database records against the 审计日志: what the archive packages cannot show.

A package fixes a document as it was archived; what happens afterwards (核发, 签收, 催办)
lives only in the database, which whoever holds its password can edit. Every change a
person or gongwen makes is recorded by an audit entry sealed in the hash chain
(storage.audit_log), so each record is checked against the entries that made it:

- 真实性 · 办理状态: a document was drafted (its 拟稿 entry), its 办理状态 is the target of its
  last transition entry (草稿 when none), and its 发文字号 is the one its 登记 entry gave;
- 真实性 · 审批记录: its 核稿 / 会签 / 签发 decisions are exactly those its approve and
  return entries record (who, step, verdict, 意见, and the 签发's content digests);
- 真实性 · 分发记录: each delivery's status and address are what replaying the entries
  about its recipient gives (send, send_failed, send_deferred, send_retry, settle, ack,
  remind, escalate); every recipient an entry names has its delivery row; a 已核发
  document has as many deliveries as its 核发 entry counted;
- 真实性 · 公文记录: an archived document's row still has the fingerprint its 归档 entry
  recorded (every 要素, the 正文, the 发文字号, the dates — models.archive_package.record_fingerprint);
- 完整性 · 发文顺序号: per (机关代字, 年份) the registered 发文顺序号 are consecutive and the
  counter stands at the highest of them (or at a higher seed whose loading was audited).

What was signed is what was issued — signed = registered = printed = archived = sent, each link
against what the entries sealed in the chain recorded, the first link that breaks named first:

- 真实性 · 签发内容: the content digest the 签发 entry recorded (models.signed_content) is the one
  the 登记, 印制 and 归档 entries recorded, and the document's content still has it;
- 真实性 · 印制文件: the printed files 归档 took are those the 印制 entry recorded, and each
  printed_files row's bytes (and its SHA-256 column) are still those;
- 真实性 · 分发文件: each delivery attached the files as archived (its ``attached_sha256``
  against the SHA-256 the 归档 entry recorded of them).

A document signed before the digests were recorded (早期签发) passes 签发内容 with a detail that
says it could not be checked; so does 分发文件 for a package archived before.

``check_records`` loads each table once, so checking every document costs a few queries.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Row
from sqlmodel import Session, select

from models.archive_package import record_fingerprint
from models.distribution import DeliveryStatus
from models.lifecycle import Action, State, Step
from models.signed_content import content_digest, content_of_row
from models.tables import AuditEvent, Decision, Delivery, Document, PrintedFile, ReferenceCounter
from storage.archive_checks import AUTHENTIC, COMPLETE, Check

#: What each delivery entry leaves the delivery's status at (settle: by its outcome; the others leave it).
_STATUS_AFTER = {
    "send": DeliveryStatus.SENT,
    "send_failed": DeliveryStatus.FAILED,
    "send_deferred": DeliveryStatus.PENDING,
    "send_retry": DeliveryStatus.PENDING,
    "ack": DeliveryStatus.ACKNOWLEDGED,
}
_DELIVERY_ACTIONS = {*_STATUS_AFTER, "settle", "remind", "escalate"}
_DECISION_ACTIONS = {Action.APPROVE.value, Action.RETURN.value}


@dataclass
class _Entries:
    """One document's audit entries (oldest first), their details parsed."""

    events: list[tuple[Row, dict]] = field(default_factory=list)

    def of(self, actions: Iterable[str]) -> list[tuple[Row, dict]]:
        wanted = set(actions)
        return [(event, detail) for event, detail in self.events if event.action in wanted]


#: Documents checked per round of queries: memory stays bounded however large the archive.
_BATCH = 500


def check_records(session: Session, document_ids: list[int] | None = None) -> list[Check]:
    """The record checks of each document (all when ``document_ids`` is None), then the 发文顺序号 check."""
    if document_ids is None:
        document_ids = list(session.exec(select(Document.id).order_by(Document.id)))
    checks, codes = [], set()
    for start in range(0, len(document_ids), _BATCH):
        batch = document_ids[start : start + _BATCH]
        entries: dict[int, _Entries] = defaultdict(_Entries)
        for event in _rows(session, AuditEvent, batch):
            entries[event.document_id].events.append((event, json.loads(event.detail)))
        decisions, deliveries = defaultdict(list), defaultdict(list)
        for found, table in ((decisions, Decision), (deliveries, Delivery)):
            for row in _rows(session, table, batch):
                found[row.document_id].append(row)
        printed = _printed(session, batch)
        for document in _rows(session, Document, batch):
            trail = entries[document.id]
            checks += [
                _state(document, trail),
                _decisions(document, trail, decisions[document.id]),
                _deliveries(document, trail, deliveries[document.id]),
                *_issued_as_signed(document, trail, printed[document.id], deliveries[document.id]),
            ]
            if trail.of([Action.ARCHIVE.value]):
                checks.append(_fingerprint(document, trail))
            if document.ref_serial is not None:
                codes.add((document.ref_code, document.ref_year))
    return checks + _serials(session, codes)


def _rows(session: Session, model, document_ids: list[int]) -> list[Row]:
    """Plain rows (not ORM objects: nothing kept in the session) of ``model`` about ``document_ids``, in id order."""
    table = model.__table__
    column = table.c.id if model is Document else table.c.document_id
    query = select(table).where(column.in_(document_ids)).order_by(table.c.id)
    return list(session.connection().execute(query))


def _named(document: Row, property_: str, name: str, problems: list[str], fine: str) -> Check:
    return Check(property_, name, not problems, "；".join(problems) or fine, ref=document.ref, document_id=document.id)


def _state(document: Row, trail: _Entries) -> Check:
    """办理状态 and 发文字号 as the transition entries left them."""
    problems = []
    if not trail.of(["draft"]):
        problems.append("审计日志中没有本文的拟稿记录")
    moves = [detail for _, detail in trail.events if "to" in detail and "from" in detail]
    expected = moves[-1]["to"] if moves else State.DRAFT.value  # 拟稿 makes a 草稿
    if expected != document.state:
        problems.append(f"办理状态为「{document.state}」，审计日志记录为「{expected}」")
    registered = [detail.get("ref") for _, detail in trail.of([Action.REGISTER.value])]
    if registered and registered[-1] != document.ref:
        problems.append(f"发文字号为「{document.ref}」，登记时为「{registered[-1]}」")
    if not registered and document.ref is not None:
        problems.append(f"发文字号「{document.ref}」没有登记记录")
    return _named(document, AUTHENTIC, "办理状态与审计日志一致", problems, "办理状态与发文字号均与审计日志一致")


def _decisions(document: Row, trail: _Entries, rows: list[Row]) -> Check:
    """The 核稿 / 会签 / 签发 decisions, as a multiset, against the approve and return entries."""
    recorded = Counter(
        (
            event.actor,
            detail.get("step"),
            event.action == Action.APPROVE.value,
            detail.get("opinion", ""),
            detail.get("content_sha256"),
            detail.get("content_sm3"),
        )
        for event, detail in trail.of(_DECISION_ACTIONS)
    )
    stored = Counter(
        (row.person, row.step, row.approve, row.opinion, row.content_sha256, row.content_sm3) for row in rows
    )
    problems = [f"多出或被改动的审批记录：{who} {step}" for who, step, *_ in stored - recorded]
    problems += [f"缺少或被改动的审批记录：{who} {step}" for who, step, *_ in recorded - stored]
    return _named(document, AUTHENTIC, "审批记录与审计日志一致", problems, f"{len(rows)} 条审批记录均与审计日志一致")


def _deliveries(document: Row, trail: _Entries, rows: list[Row]) -> Check:
    """Each delivery's status and address replayed from the entries about its recipient."""
    expected: dict[str, tuple[DeliveryStatus, str | None]] = {}
    for event, detail in trail.of(_DELIVERY_ACTIONS):
        recipient = detail.get("recipient")
        status, _ = expected.get(recipient, (DeliveryStatus.PENDING, None))
        if event.action == "settle":
            status = DeliveryStatus.SENT if detail.get("outcome") == "sent" else DeliveryStatus.PENDING
        status = _STATUS_AFTER.get(event.action, status)
        expected[recipient] = (status, detail.get("address"))
    problems = []
    stored = {row.recipient: row for row in rows}
    problems += [f"「{name}」的分发记录缺失" for name in expected if name not in stored]
    for name, row in stored.items():
        status, address = expected.get(name, (DeliveryStatus.PENDING, None))
        if row.status != status.value:
            problems.append(f"「{name}」的分发状态为「{row.status}」，审计日志记录为「{status.value}」")
        if address is not None and row.address != address:
            problems.append(f"「{name}」的地址为「{row.address}」，审计日志记录为「{address}」")
    dispatched = trail.of([Action.DISPATCH.value])
    if dispatched:
        counted = sum(dispatched[-1][1].get("deliveries", {}).values())
        if counted != len(rows):
            problems.append(f"核发时共 {counted} 份分发，现有分发记录 {len(rows)} 条")
    return _named(document, AUTHENTIC, "分发记录与审计日志一致", problems, f"{len(rows)} 条分发记录均与审计日志一致")


def _printed(session: Session, document_ids: list[int]) -> dict[int, dict[str, tuple[str, str]]]:
    """Each printed file of ``document_ids`` by document and name: the SHA-256 its row records and that of
    its bytes (streamed a few rows at a time: the bytes are not kept)."""
    table = PrintedFile.__table__
    query = select(table.c.document_id, table.c.name, table.c.sha256, table.c.content).where(
        table.c.document_id.in_(document_ids)
    )
    found: dict[int, dict[str, tuple[str, str]]] = defaultdict(dict)
    for row in session.connection().execute(query.execution_options(yield_per=8)):
        found[row.document_id][row.name] = (row.sha256, hashlib.sha256(row.content).hexdigest())
    return found


def _last(trail: _Entries, action: Action) -> dict | None:
    """The detail of the last ``action`` entry, None if there is none."""
    found = trail.of([action.value])
    return found[-1][1] if found else None


def _issued_as_signed(
    document: Row, trail: _Entries, printed: dict[str, tuple[str, str]], rows: list[Row]
) -> list[Check]:
    """签发内容, 印制文件 and 分发文件 — each once the document got that far (signed, printed, sent)."""
    signing = [detail for _, detail in trail.of([Action.APPROVE.value]) if detail.get("step") == Step.SIGN.value]
    checks = [_signed_content(document, trail, signing[-1])] if signing else []
    if printed or trail.of([Action.PRINT.value]):
        checks.append(_printed_files(document, trail, printed))
    if rows:
        checks.append(_sent_files(document, trail, rows))
    return checks


def _signed_content(document: Row, trail: _Entries, signed: dict) -> Check:
    """The content digest of the 签发 entry against those 登记, 印制 and 归档 recorded and the content now."""
    name, digest = "签发内容", signed.get("content_sha256")
    if digest is None:
        return _named(document, AUTHENTIC, name, [], "早期签发：签发时未记录内容摘要，无从核对")
    problems = []
    for action in (Action.REGISTER, Action.PRINT, Action.ARCHIVE):
        detail = _last(trail, action)
        if detail is not None and detail.get("content_sha256") != digest:
            problems.append(f"{action.label}时的内容与签发时不符")
    if content_digest(content_of_row(document)).sha256 != digest:
        problems.append("现存内容（正文、要素或审批路径）与签发时不符（签发后被改动）")
    return _named(document, AUTHENTIC, name, problems, "登记、印制、归档时的内容与现存内容均与签发时一致")


def _printed_files(document: Row, trail: _Entries, printed: dict[str, tuple[str, str]]) -> Check:
    """The printed files against the 印制 entry: those 归档 recorded, then the printed_files rows."""
    recorded = (_last(trail, Action.PRINT) or {}).get("files", {})
    archive = _last(trail, Action.ARCHIVE)
    archived = archive.get("files") if archive is not None else None
    problems = []
    if archived is not None:
        problems += [
            f"归档的 {f} 与印制时不符" for f in sorted({*recorded, *archived}) if archived.get(f) != recorded.get(f)
        ]
    for file in sorted({*recorded, *printed}):
        column, actual = printed.get(file, (None, None))
        if file not in recorded:
            problems.append(f"printed_files 中的 {file} 没有印制记录")
        elif actual is None:
            problems.append(f"印制的 {file} 已不在 printed_files 中")
        elif actual != recorded[file]:
            problems.append(f"printed_files 中 {file} 的内容与印制时记录的 SHA-256 不符（文件被替换）")
        elif column != recorded[file]:
            problems.append(f"printed_files 中 {file} 记录的 SHA-256 被改动")
    fine = f"{len(recorded)} 个印制文件与印制时一致" + ("，归档的即是印制的" if archived is not None else "")
    return _named(document, AUTHENTIC, "印制文件", problems, fine)


def _sent_files(document: Row, trail: _Entries, rows: list[Row]) -> Check:
    """Each delivery's ``attached_sha256`` against the SHA-256 the 归档 entry recorded of the archived files."""
    archive = _last(trail, Action.ARCHIVE)
    archived = archive.get("files") if archive is not None else None
    if archived is None:
        return _named(document, AUTHENTIC, "分发文件", [], "早期归档：归档时未记录文件摘要，无从核对")
    problems = []
    for row in rows:
        went = row.status in (DeliveryStatus.SENT.value, DeliveryStatus.ACKNOWLEDGED.value) or row.claimed_at
        if not row.attached_sha256:
            if went:
                problems.append(f"发给「{row.recipient}」的分发没有记录所附文件的摘要")
            continue
        changed = sorted(f for f, digest in row.attached_sha256.items() if archived.get(f) != digest)
        if changed:
            problems.append(f"发给「{row.recipient}」的 {'、'.join(changed)} 与归档文件不符")
    return _named(document, AUTHENTIC, "分发文件", problems, f"{len(rows)} 份分发所附的均为归档文件")


def _fingerprint(document: Row, trail: _Entries) -> Check:
    """An archived document's row against the fingerprint its 归档 entry recorded."""
    recorded = trail.of([Action.ARCHIVE.value])[-1][1].get("record_sha256")
    if recorded is None:
        return _named(document, AUTHENTIC, "公文记录与归档时一致", [], "归档时未记录公文记录摘要（早期归档）")
    problems = (
        []
        if record_fingerprint(dict(document._mapping)) == recorded
        else ["公文记录（要素、正文、发文字号或日期）在归档后被改动"]
    )
    return _named(document, AUTHENTIC, "公文记录与归档时一致", problems, "公文记录与归档时一致")


def _serials(session: Session, codes: set[tuple[str, int]]) -> list[Check]:
    """Per (机关代字, 年份): registered 发文顺序号 consecutive, the counter at the highest (or at an audited seed)."""
    seeds: dict[tuple[str, int], int] = defaultdict(int)
    for detail in session.exec(select(AuditEvent.detail).where(AuditEvent.action == "directory_loaded")):
        for seed in json.loads(detail).get("counters", []):
            key = (seed["code"], seed["year"])
            seeds[key] = max(seeds[key], seed["last"])
    checks = []
    for code, year in sorted(codes):
        serials = sorted(
            session.exec(select(Document.ref_serial).where(Document.ref_code == code, Document.ref_year == year))
        )
        counter = session.get(ReferenceCounter, (code, year))
        last = counter.last_serial if counter is not None else 0
        problems = []
        if serials != list(range(serials[0], serials[0] + len(serials))):
            problems.append(f"已登记的发文顺序号不连续或重复：{serials}")
        if last != max(serials[-1], seeds[(code, year)]):
            problems.append(f"计数器为 {last}，已登记的最大发文顺序号为 {serials[-1]}")
        checks.append(
            Check(
                COMPLETE,
                "发文顺序号连续",
                not problems,
                "；".join(problems) or f"{code}〔{year}〕{serials[0]}–{serials[-1]}号连续，计数器一致",
            )
        )
    return checks
