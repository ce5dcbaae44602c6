"""One door per action: each refusal is the same through the command line without a server (name and PIN)
and through the 门户 and the lifecycle run's forms (the person signed in) — the same exit code, the same
message and field, the same one audit entry.

Two copies of the seed notice live in one home: ``local`` was submitted without a server (no run carries
it), ``carried`` by ``gongwen submit`` through the 门户 (its lifecycle run waits on the 审核单). Each case
runs the same command against both. An answer that reached the run around the 门户 (no stamp, or a stamp
over another answer) is refused by the run itself and audited.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from sqlmodel import select

from flows.served_names import DRAFT
from models import stamps
from models.spec import parse_spec
from models.tables import AuditEvent
from storage import audit_log, review
from storage.review import bound_run
from tests.prefect.documents import PINS, cli_json, notice_data, write_notice
from tests.prefect.served import GONGWEN, Served


def _local(served: Served, *args: str) -> tuple[int, dict]:
    """``gongwen`` in the same home without PREFECT_API_URL: the action applied in this process (name and PIN)."""
    env = {key: value for key, value in served.env.items() if key != "PREFECT_API_URL"}
    result = subprocess.run(
        [GONGWEN, "--home", str(served.home), "--json", *args], env=env, capture_output=True, text=True
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def _entries(served: Served, doc: int) -> list[tuple[str, str, dict]]:
    with served.app.db.transaction() as session:
        return [(e.actor, e.action, json.loads(e.detail)) for e in audit_log.trail(session, document_id=doc)]


def _refused_alike(served: Served, docs: dict[str, int], *args: str) -> tuple[int, dict, tuple]:
    """Run ``args`` (with {doc} for the document) through both doors; both refused alike: (code, error, entry)."""
    seen = []
    for door, doc in docs.items():
        before = _entries(served, doc)
        command = [arg.format(doc=doc) for arg in args]
        code, error = (_local if door == "local" else cli_json)(served, *command)
        after = _entries(served, doc)
        assert len(after) == len(before) + 1, (door, after[len(before) :])
        seen.append((code, error, after[-1]))
    (code, error, entry), other = seen
    assert other == (code, error, entry), seen
    assert code == 3 and entry[1].endswith("_refused") and entry[2]["reason"] == error["error"]
    assert entry[2]["field"] == error["field"]
    return code, error, entry


@pytest.fixture(scope="module")
def docs(served: Served, tmp_path_factory) -> dict[str, int]:
    folder = tmp_path_factory.mktemp("doors")
    notice = str(write_notice(folder, "notice.yaml"))
    drafter = ("--as", "郭佳佳", "--pin", PINS["郭佳佳"])
    found = {}
    for door in ("local", "carried"):
        code, drafted = _local(served, "draft", notice, *drafter)
        assert code == 0, drafted
        submit = _local if door == "local" else cli_json
        code, submitted = submit(served, "submit", str(drafted["id"]), *drafter)
        assert code == 0 and submitted["state"] == "in_review", submitted
        found[door] = drafted["id"]
    return found


CASES_IN_REVIEW = {
    "wrong person": (
        ["decide", "{doc}", "--as", "张伟", "--pin", PINS["张伟"], "--approve"],
        "as",
        "「张伟」不在本文的核稿人员中",
    ),
    "wrong role": (
        ["decide", "{doc}", "--as", "陈立新", "--pin", PINS["陈立新"], "--return"],
        "as",
        "「陈立新」没有核稿权限",
    ),
    "wrong step: 修改 in 核稿": (
        ["revise", "{doc}", "NOTICE", "--as", "郭佳佳", "--pin", PINS["郭佳佳"]],
        "state",
        "不能执行「修改」",
    ),
    "wrong step: 送审 again": (
        ["submit", "{doc}", "--as", "郭佳佳", "--pin", PINS["郭佳佳"]],
        "state",
        "不能执行「送审」",
    ),
    "wrong person: 撤销 by a reviewer": (
        ["withdraw", "{doc}", "--as", "李红梅", "--pin", PINS["李红梅"]],
        "as",
        "没有撤销权限",
    ),
}


@pytest.mark.parametrize("case", list(CASES_IN_REVIEW))
def test_each_refusal_in_review_is_the_same_through_both_doors(served, docs, case, tmp_path):
    args, field, part = CASES_IN_REVIEW[case]
    notice = str(write_notice(tmp_path, "notice.yaml"))
    args = [notice if arg == "NOTICE" else arg for arg in args]
    _, error, _ = _refused_alike(served, docs, *args)
    assert error["field"] == field and part in error["error"], error


def test_an_answer_around_the_gateway_is_refused_by_the_run(served, docs):
    """The 审核单 answered straight at the Prefect server (its auth string, no 门户): no stamp, so the run refuses
    it, audits it, and waits on the same step again; a stamp stored for another answer does not pass either."""
    desk = served.desk()  # the server's own client: what someone holding the Prefect auth string could do
    run_id = _run_of(served, docs["carried"])
    for planted in (None, {"person": "李红梅", "at": time.time(), "nonce": "0" * 32, "mac": "0" * 64}):
        form = desk.form(run_id)
        if planted is not None:
            served.api(
                "POST", f"/flow_runs/{run_id}/input", {"key": stamps.input_key(form.key), "value": json.dumps(planted)}
            )
        before = _entries(served, docs["carried"])
        desk.answer(run_id, {"verdict": "同意", "opinion": ""})
        outcome = desk.outcome(run_id, form.key)
        assert not outcome["accepted"] and outcome["error"]["field"] == "stamp", outcome
        after = _entries(served, docs["carried"])
        assert [(entry[1], entry[2]["field"]) for entry in after[len(before) :]] == [("decision_refused", "stamp")]
        desk.wait(run_id, after_key=form.key)
    assert review.stage(served.app.db, document_id=docs["carried"]).state.value == "in_review"


def test_refusals_after_a_return_are_the_same_through_both_doors(served, docs, tmp_path):
    for doc in docs.values():  # 退回修改 through each door
        command = ["decide", str(doc), "--as", "李红梅", "--pin", PINS["李红梅"], "--return", "--opinion", "补充"]
        code, out = (_local if doc == docs["local"] else cli_json)(served, *command)
        assert (code, out["state"]) == (0, "draft"), out
    notice = str(write_notice(tmp_path, "notice.yaml"))
    _, error, _ = _refused_alike(served, docs, "revise", "{doc}", notice, "--as", "李红梅", "--pin", PINS["李红梅"])
    assert "没有修改权限" in error["error"]
    _, error, _ = _refused_alike(
        served, docs, "decide", "{doc}", "--as", "李红梅", "--pin", PINS["李红梅"], "--approve"
    )
    assert "不能执行「同意」" in error["error"] and error["field"] == "state"

    # 送审 of the returned draft: the carried one through its run's 修改单, so the same run carries it on
    carrier = bound_run(served.app.db, document_id=docs["carried"])
    for door, doc in docs.items():
        command = ["submit", str(doc), "--as", "郭佳佳", "--pin", PINS["郭佳佳"]]
        code, out = (_local if door == "local" else cli_json)(served, *command)
        assert (code, out["state"]) == (0, "in_review"), out
    assert bound_run(served.app.db, document_id=docs["carried"]) == carrier
    assert "待 李红梅 办理" in served.desk().form(_run_of(served, docs["carried"])).description


def _run_of(served: Served, doc: int) -> str:
    run_id = bound_run(served.app.db, document_id=doc)
    assert run_id is not None
    served.desk().wait(run_id)
    return run_id


def test_a_refused_draft_is_the_same_through_the_command_line_and_the_draft_form(served, tmp_path):
    """拟稿 by a person without the 拟稿 role: ``gongwen draft`` and the draft-document Run form call the same
    action, which refuses both with the same message and one ``draft_refused`` entry each."""
    code, error = _local(
        served, "draft", str(write_notice(tmp_path, "notice.yaml")), "--as", "李红梅", "--pin", PINS["李红梅"]
    )
    assert (code, error["field"]) == (3, "as") and "没有拟稿权限" in error["error"], error
    desk = served.desk(as_person="李红梅")  # signed in at the 门户: the drafter is whoever started the run
    spec = parse_spec(notice_data())[0].to_data()  # the form's shape of the 公文要素
    run_id = desk.run_deployment(DRAFT, {"spec": spec, "submit": False})
    message = desk.finished(run_id, failed_ok=True)
    assert error["error"] in message, message
    refusals = _entries_named(served, "draft_refused")[-2:]
    assert [(actor, detail["reason"], detail["field"]) for actor, detail in refusals] == [
        ("李红梅", error["error"], "as")
    ] * 2


def _entries_named(served: Served, action: str) -> list[tuple[str, dict]]:
    with served.app.db.transaction() as session:
        query = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return [(e.actor, json.loads(e.detail)) for e in session.exec(query)]
