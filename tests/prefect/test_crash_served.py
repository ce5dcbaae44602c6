"""Crash safety: the serving process killed in the middle of issuance, started again, the run resumed."""

from __future__ import annotations

import time

from models.archive_package import MANIFEST
from storage import audit_log
from tests.prefect.documents import (
    archive_records,
    cli_json,
    deliveries_of,
    document,
    drafted_and_submitted,
    outbox_messages,
    to_signature,
)
from tests.prefect.served import Served


def test_killed_during_issuance_then_resumed_keeps_one_number_one_package_one_message_each(
    tmp_path_factory, kaifeng, tmp_path
):
    served = Served(tmp_path_factory.mktemp("crash"))
    served.load(kaifeng)
    served.start()
    try:
        doc, run_id = drafted_and_submitted(served, tmp_path)
        to_signature(served, doc)
        desk = served.desk(as_person="陈立新")  # the signer, signed in at the 门户
        desk.wait(run_id)
        form = desk.form(run_id)
        desk.answer(run_id, {"verdict": "同意", "opinion": ""})
        number = _wait_until_registered(served, doc)
        served.kill()  # kill -9 of the server, the runner and the flow run in the middle of 印制
        assert document(served, doc).state in {"registered", "printed"}

        served.start()
        code, out = cli_json(served, "resume", str(doc))
        assert code == 0, out
        assert served.desk().finished(run_id) == number
        served.desk().finished(served.desk().triggered_run("distribute-document/gongwen", {"document_id": doc}))
        assert form.key  # the signer answered exactly one form

        final = document(served, doc)
        assert (final.ref, final.state) == (number, "dispatched")
        records = archive_records(served, doc)
        assert len(records) == 1
        store = served.app.archive_store
        assert len([v for v in store.versions(records[0].prefix) if v.key.endswith(MANIFEST)]) == 1
        deliveries = deliveries_of(served, doc)
        assert len(deliveries) == 32 and all(d.status == "sent" for d in deliveries)
        messages = outbox_messages(served, number)
        assert sorted(m["To"].addresses[0].addr_spec for m in messages) == sorted(d.address for d in deliveries)
        with served.app.db.transaction() as session:
            actions = [e.action for e in audit_log.trail(session, document_id=doc)]
            assert audit_log.verify(session).ok
        assert actions.count("register") == 1 and actions.count("archive") == 1
    finally:
        served.stop()


def _wait_until_registered(served: Served, doc: int) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = document(served, doc)
        if found.state == "registered":
            return found.ref
        assert found.state in {"awaiting_signature", "signed"}, found.state
        time.sleep(0.02)
    raise AssertionError("the document was never registered")
