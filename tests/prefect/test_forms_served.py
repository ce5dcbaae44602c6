"""The Resume forms as the Prefect server stores them: Chinese titles, no person and no PIN (who answers is
the person signed in at the 门户), who may answer named above the form."""

from __future__ import annotations

from models.spec import parse_spec
from tests.prefect.documents import decide, drafted_and_submitted, notice_data


def test_the_review_form_asks_only_for_the_decision(served, tmp_path):
    desk = served.desk()
    doc, run_id = drafted_and_submitted(served, tmp_path)
    form = desk.form(run_id)
    fields = form.schema["properties"]
    assert {name: field["title"] for name, field in fields.items()} == {"verdict": "结论", "opinion": "意见"}
    assert fields["verdict"]["enum"] == ["同意", "退回修改"]
    assert set(form.schema["required"]) == {"verdict"}
    assert "核稿" in form.description and "关于印发" in form.description and "待 李红梅 办理" in form.description

    # the server itself refuses an answer outside the form: a name or PIN put in
    answer = {"verdict": "同意", "person": "张伟", "pin": "639284"}
    refused = desk._call(lambda client: client.resume_flow_run(_uuid(run_id), run_input=answer))
    assert refused.status.value == "REJECT" and desk.state(run_id).is_paused()

    code, _ = decide(served, doc, "李红梅", "--return", "--opinion", "请补充抄送")
    assert code == 0
    revision = desk.form(run_id)
    fields = revision.schema["properties"]
    assert [fields[name]["title"] for name in ("action", "note", "spec")] == ["处理", "修改说明", "公文内容（修改稿）"]
    assert set(fields) == {"action", "note", "spec"}
    assert fields["action"]["enum"] == ["重新送审", "撤销"] and "郭佳佳" in revision.description
    assert "请补充抄送" in revision.description
    spec_fields = _definition(revision.schema, fields["spec"])["properties"]
    assert (spec_fields["doc_type"]["title"], spec_fields["title"]["title"], spec_fields["cc"]["title"]) == (
        "文种",
        "标题",
        "抄送",
    )
    assert fields["spec"]["default"]["title"] == notice_data()["title"]  # the form opens on the current content

    drafter = served.desk(as_person="郭佳佳")  # signed in at the 门户
    drafter.answer(run_id, {"action": "撤销", "spec": parse_spec(notice_data())[0].to_data()})
    assert desk.finished(run_id) == "已撤销"


def _uuid(run_id: str):
    from uuid import UUID

    return UUID(run_id)


def _definition(schema: dict, field: dict) -> dict:
    reference = field.get("$ref") or field.get("allOf", [{}])[0].get("$ref")
    name = reference.rsplit("/", 1)[-1]
    return (schema.get("definitions") or schema["$defs"])[name]
