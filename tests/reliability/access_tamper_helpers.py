"""A small office for the access and tampering suites: two archived documents, one of them 已核发.

``office`` builds it in a fresh home through the CLI, as staff would: the 开封市 directory
loaded with ``org load``, two copies of the seed notice drafted, reviewed and signed by the
people on its route, registered and printed (small real .docx and PDF files), archived
with ``archive`` into the store the environment names (the local folder, or a bucket on
Ceph RGW), the first dispatched to the outbox with ``distribute`` and acknowledged by one
recipient with ``ack``; a third copy stays a 草稿; the day ends with ``audit anchor`` (the chain head
put into the store). ``audit verify --all`` passes on it.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from gongwen.app import App
from gongwen.cli import main
from gongwen.settings import load_settings
from storage.archive.base import ArchiveStore
from storage.database import Database
from tests.conftest import EXAMPLE
from tests.servers.rgw import RgwServer
from tests.storage.archive.helpers import printed_document

DISPATCHED_REF = "汴打假〔2022〕3号"
ARCHIVED_REF = "汴打假〔2022〕4号"
ACKNOWLEDGED = "开封市公安局"
DRAFTER, REVIEWER, SIGNER, REGISTRAR = "郭佳佳", "李红梅", "陈立新", "李红梅"


@dataclass
class Office:
    """A home with its database and archive store, and the ids of its two documents."""

    home: Path
    db: Database
    store: ArchiveStore
    dispatched: int  # 汴打假〔2022〕3号: 已核发 to the outbox, 开封市公安局 has signed for it
    archived: int  # 汴打假〔2022〕4号: 已归档


def gongwen(home: Path, *args: str) -> tuple[int, str, str]:
    """Run ``gongwen --home HOME ARGS…`` in this process: its exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            main(["--home", str(home), *args])
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


def gongwen_json(home: Path, *args: str) -> tuple[int, dict]:
    """``gongwen --json``: the exit code and the one JSON object it printed."""
    code, out, err = gongwen(home, "--json", *args)
    assert "Traceback" not in err, err
    return code, json.loads(out)


def office(home: Path, notice, pins) -> Office:
    """The office described above, in ``home`` (database and store from the GONGWEN_ environment)."""
    home.mkdir()
    app = App(load_settings(home=home))
    assert gongwen(home, "org", "load", str(EXAMPLE / "directory.yaml"))[0] == 0
    dispatched, archived = (printed_document(app.db, notice, pins) for _ in range(2))
    for document_id in (dispatched, archived):
        assert gongwen_json(home, "archive", str(document_id))[0] == 0
    code, data = gongwen_json(home, "distribute", str(dispatched))
    assert (code, data["state"]) == (0, "dispatched"), data
    assert gongwen_json(home, "ack", DISPATCHED_REF, "--recipient", "市公安局")[0] == 0
    draft = ["draft", str(EXAMPLE / "notice.yaml"), "--as", DRAFTER, "--pin", pins[DRAFTER]]
    assert gongwen_json(home, *draft)[0] == 0  # a 草稿 beside them
    assert gongwen_json(home, "audit", "anchor")[1]["anchored"] is True
    code, data = gongwen_json(home, "audit", "verify", "--all")
    assert (code, data["ok"]) == (0, True), [c for c in data["checks"] if not c["ok"]]
    return Office(home, app.db, app.archive_store, dispatched, archived)


def copied(template: Office, home: Path) -> Office:
    """A copy of a local office (SQLite and the archive folder under its home) in ``home``."""
    shutil.copytree(template.home, home)
    app = App(load_settings(home=home))
    return Office(home, app.db, app.archive_store, template.dispatched, template.archived)


def s3_environment(monkeypatch, rgw: RgwServer, bucket: str, access_key: str, secret_key: str) -> None:
    """GONGWEN_ settings that archive into ``bucket`` on ``rgw`` with the given key."""
    for name, value in {
        "ARCHIVE": "s3",
        "S3_ENDPOINT": rgw.endpoint,
        "S3_ACCESS_KEY": access_key,
        "S3_SECRET_KEY": secret_key,
        "S3_BUCKET": bucket,
        "S3_SECURE": "false",
    }.items():
        monkeypatch.setenv(f"GONGWEN_{name}", value)
