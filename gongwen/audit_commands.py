"""Auditors' commands: find, get and verify archived documents (归档检索, 四性检测)."""

from __future__ import annotations

import datetime as dt
import sys
from contextlib import nullcontext
from pathlib import Path

import click

from actions import auditing
from models.errors import InputError
from models.refno import ReferenceNumber
from storage import archive_checks, archiving, audit_anchors, audit_log
from storage.archive_search import find


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def audit_find(ctx, ref: str | None, year: int | None, issuer: str | None, text: str | None) -> None:
    if ref is not None:
        ReferenceNumber.parse(ref, "ref")
    with ctx.app.db.transaction() as session:
        found = find(session, ref=ref, year=year, issuer=issuer, text=text)
    rows = [
        {
            "ref": f.document.ref,
            "archive_code": f.record.archive_code,
            "title": f.document.title,
            "issuers": f.document.issuers,
            "year": f.record.year,
            "retention": f.record.retention,
            "archived_at": f.record.archived_at.isoformat(),
        }
        for f in found
    ]
    lines = [f"{r['archive_code']}　{r['ref']}　{r['title']}" for r in rows]
    ctx.out.done({"count": len(rows), "results": rows}, "\n".join(lines) or "没有找到归档公文")


def audit_get(ctx, ref: str, out_dir: Path) -> None:
    """Write the archived files (checked against the manifest), and the current audit trail."""
    store = ctx.app.archive_store
    with ctx.app.db.transaction() as session:
        found = auditing.find_archived(session, ref)
        trail = audit_log.trail(session, document_id=found.document.id)
    record = found.record
    target = out_dir / record.archive_code
    if target.exists():
        raise InputError(f"目标目录「{target}」已存在，不会覆盖", "-o")
    files = auditing.fetch(store, record)
    target.mkdir(parents=True)
    for name, data in files.items():
        (target / name).write_bytes(data)
    (target / "current-audit-trail.json").write_bytes(archiving.trail_json(trail))
    ctx.out.done(
        {"ref": ref, "archive_code": record.archive_code, "dir": str(target), "files": sorted(files)},
        f"已取出 {record.archive_code}（{ref}）到 {target}",
    )


def audit_link(ctx, ref: str, minutes: int) -> None:
    """Time-limited download links (S3 presigned URLs) to each archived file of a document."""
    store = ctx.app.archive_store
    with ctx.app.db.transaction() as session:
        record = auditing.find_archived(session, ref).record
    expires = dt.timedelta(minutes=minutes)
    links = {name: store.link(f"{record.prefix}/{name}", version, expires) for name, version in record.versions.items()}
    ctx.out.done(
        {"ref": ref, "archive_code": record.archive_code, "expires_minutes": minutes, "links": links},
        "\n".join(f"{name}：{url}" for name, url in sorted(links.items())),
    )


def audit_verify(ctx, ref: str | None) -> None:
    """四性检测 of one archived document or of all, the packages and the records; exit 1 naming every
    failed check and the 发文字号 it concerns."""
    show = ref is None and not ctx.out.as_json and sys.stderr.isatty()

    def each(records):
        progress = click.progressbar(records, label="四性检测", file=sys.stderr)
        with progress if show else nullcontext(records) as items:
            yield from items

    verified = auditing.verify(ctx.app.db, ctx.app.archive_store, ref=ref, each=each)
    general, results = verified.general, verified.packages
    data = {
        "ok": verified.ok,
        "checks": [c.as_dict() for c in general]
        + [{**c.as_dict(), "archive_code": r.archive_code} for r, checks in results for c in checks],
        "packages": len(results),
    }
    lines = [_line(c) for c in general]
    for record, checks in results:
        lines += [_line(c, record.archive_code) for c in checks]
    ctx.out.done(data, "\n".join(lines))
    if not verified.ok:
        raise click.exceptions.Exit(1)


def audit_anchor(ctx) -> None:
    """审计链锚点: put the chain head into the archive, where it can no longer be changed."""
    settings = ctx.app.settings
    anchored = audit_anchors.anchor(ctx.app.db, ctx.app.archive_store, lock_mode=settings.archive_lock_mode)
    if anchored is None:
        ctx.out.done({"anchored": False}, "审计日志尚无记录，无需锚定")
        return
    ctx.out.done(
        {"anchored": True, "last_id": anchored.last_id, "last_hash": anchored.last_hash, "key": anchored.key},
        f"审计链已锚定至审计记录 #{anchored.last_id}（{anchored.key}）",
    )


def _line(check: archive_checks.Check, archive_code: str | None = None) -> str:
    unnumbered = f"公文 {check.document_id}" if check.ref is None and check.document_id is not None else None
    where = " ".join(part for part in (archive_code, check.ref, unnumbered) if part)
    return (
        f"{'通过' if check.ok else '失败'} {where + ' ' if where else ''}{check.property}·{check.name}：{check.detail}"
    )
