"""Documents for the served tests: the seed notice with two 会签 parties, and people acting on forms."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import yaml
from sqlmodel import select

from models.tables import ArchiveRecord, Delivery
from storage import audit_log, documents
from tests.conftest import EXAMPLE
from tests.prefect.served import Served

PINS = {p["name"]: p["pin"] for p in yaml.safe_load((EXAMPLE / "directory.yaml").read_text(encoding="utf-8"))["people"]}
COSIGNERS = ["赵丽", "王强"]


def notice_data(*, with_cc: bool = True) -> dict:
    """The seed notice, routed through two 会签 parties; without its 抄送 line for a first draft."""
    data = yaml.safe_load((EXAMPLE / "notice.yaml").read_text(encoding="utf-8"))
    data["approval"]["cosign"] = list(COSIGNERS)
    if not with_cc:
        data.pop("cc")
    return data


def write_notice(folder: Path, name: str, **options) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(notice_data(**options), allow_unicode=True), encoding="utf-8")
    return path


def cli_json(served: Served, *args: str) -> tuple[int, dict]:
    result = served.cli("--json", *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def drafted_and_submitted(served: Served, folder: Path, **options) -> tuple[int, str]:
    """A new draft of the notice, submitted: its id and lifecycle run."""
    drafter = ("--as", "郭佳佳", "--pin", PINS["郭佳佳"])
    code, drafted = cli_json(served, "draft", str(write_notice(folder, "notice.yaml", **options)), *drafter)
    assert code == 0, drafted
    code, submitted = cli_json(served, "submit", str(drafted["id"]), *drafter)
    assert code == 0, submitted
    return drafted["id"], submitted["flow_run_id"]


def decide(served: Served, doc: int, name: str, *flags: str) -> tuple[int, dict]:
    return cli_json(served, "decide", str(doc), "--as", name, "--pin", PINS[name], *flags)


def approve_all(served: Served, doc: int, cosign_order: list[str]) -> dict:
    """核稿, 会签 in the given order and 签发, all agreeing; the last answer's output."""
    to_signature(served, doc, cosign_order)
    code, out = decide(served, doc, "陈立新", "--approve", "--opinion", "同意")
    assert code == 0, out
    return out


def to_signature(served: Served, doc: int, cosign_order: list[str] = COSIGNERS) -> None:
    """核稿 and 会签 (in the given order), all agreeing: the document waits for its 签发."""
    for name in ["李红梅", *cosign_order]:
        code, out = decide(served, doc, name, "--approve", "--opinion", "同意")
        assert code == 0, out


def audit_actions(served: Served, doc: int) -> list[str]:
    with served.app.db.transaction() as session:
        return [entry.action for entry in audit_log.trail(session, document_id=doc)]


def document(served: Served, doc: int):
    with served.app.db.transaction() as session:
        return documents.get(session, document_id=doc)


def deliveries_of(served: Served, doc: int) -> list[Delivery]:
    with served.app.db.transaction() as session:
        return list(session.exec(select(Delivery).where(Delivery.document_id == doc)))


def archive_records(served: Served, doc: int) -> list[ArchiveRecord]:
    with served.app.db.transaction() as session:
        return list(session.exec(select(ArchiveRecord).where(ArchiveRecord.document_id == doc)))


def outbox_messages(served: Served, ref: str) -> list[email.message.EmailMessage]:
    """The messages in the outbox about the document ``ref``."""
    found = []
    for path in sorted((served.home / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if ref in str(message["Subject"]):
            found.append(message)
    return found
