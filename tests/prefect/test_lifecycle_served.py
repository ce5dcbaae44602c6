"""The document lifecycle on a real Prefect server: forms, refusals, 退回修改, 会签 in any order, issue, 核发."""

from __future__ import annotations

from flows.served_names import AUDIT_RETRIEVE, DISTRIBUTE
from storage.review import stage
from tests.flows.dispatch_helpers import ack_code
from tests.prefect.documents import (
    COSIGNERS,
    approve_all,
    archive_records,
    audit_actions,
    cli_json,
    decide,
    deliveries_of,
    document,
    drafted_and_submitted,
    outbox_messages,
    write_notice,
)


def test_review_on_forms_with_a_refusal_a_return_and_a_revision_then_issue_and_distribution(served, tmp_path):
    desk = served.desk()
    doc, run_id = drafted_and_submitted(served, tmp_path, with_cc=False)
    assert desk.state(run_id).is_paused()
    form = desk.form(run_id)

    desk.answer(run_id, {"verdict": "同意", "opinion": ""})  # straight at Prefect, around the 门户: no stamp
    outcome = desk.outcome(run_id, form.key)
    assert not outcome["accepted"] and outcome["error"]["field"] == "stamp"
    assert audit_actions(served, doc)[-1] == "decision_refused"
    again = desk.form(run_id)
    assert desk.state(run_id).is_paused() and again.key != form.key and "上次提交未被接受" in again.description
    assert stage(served.app.db, document_id=doc).step == "核稿"

    code, error = decide(served, doc, "陈立新", "--approve")  # the signer is not the reviewer
    assert code == 3 and error["field"] == "as"

    code, out = decide(served, doc, "李红梅", "--return", "--opinion", "请补充抄送")
    assert (code, out["state"]) == (0, "draft")
    revised = write_notice(tmp_path, "revised.yaml", with_cc=True)
    code, out = cli_json(served, "revise", str(doc), str(revised), "--as", "郭佳佳", "--pin", "417305")
    assert code == 0, out
    assert (out["version"], out["round"], out["state"]) == (2, 2, "in_review")

    code, out = decide(served, doc, "李红梅", "--approve")
    assert (out["state"], out["pending"]) == ("cosigning", [])
    assert all(name in served.desk().form(run_id).description for name in COSIGNERS)
    code, out = decide(served, doc, "王强", "--approve")
    assert (out["state"], out["pending"]) == ("cosigning", ["赵丽"])
    code, out = decide(served, doc, "赵丽", "--approve")
    assert out["state"] == "awaiting_signature"
    code, out = decide(served, doc, "陈立新", "--approve", "--opinion", "同意印发")
    assert code == 0, out

    ref = desk.finished(run_id)
    assert document(served, doc).ref == ref
    distribution = desk.finished(desk.triggered_run(DISTRIBUTE, {"document_id": doc}))
    assert distribution == {"sent": 32}
    assert document(served, doc).state == "dispatched"
    assert len(outbox_messages(served, ref)) == 32
    assert len(archive_records(served, doc)) == 1
    actions = audit_actions(served, doc)
    assert actions.count("decision_refused") == 2 and "revise" in actions and actions.count("register") == 1

    keys = {a.key for a in served.desk()._call(lambda client: client.read_artifacts()) if a.key}
    assert {f"document-{doc}-preview", f"document-{doc}-decisions", f"document-{doc}-archive"} <= keys


def test_cosign_in_the_other_order_and_receipts_through_the_form(served, tmp_path):
    desk = served.desk()
    doc, run_id = drafted_and_submitted(served, tmp_path)
    out = approve_all(served, doc, cosign_order=["赵丽", "王强"])
    assert out["step"] == "签发"
    ref = desk.finished(run_id)
    desk.finished(desk.triggered_run(DISTRIBUTE, {"document_id": doc}))
    message = outbox_messages(served, ref)[0]
    code = ack_code(message)

    ack = desk.run_deployment("acknowledge-receipt/gongwen", {"code": code})
    assert "已签收" in desk.finished(ack)
    again = desk.run_deployment("acknowledge-receipt/gongwen", {"code": code})
    assert "不能重复签收" in desk.finished(again, failed_ok=True)
    acked = [d for d in deliveries_of(served, doc) if d.status == "acknowledged"]
    assert [d.address for d in acked] == [message["To"].addresses[0].addr_spec]

    retrieved = desk.finished(desk.run_deployment(AUDIT_RETRIEVE, {"ref": ref}))
    assert retrieved["ok"] is True and retrieved["archive_code"] == archive_records(served, doc)[0].archive_code
