"""The Resume forms as the Prefect server stores them: Chinese titles, the choice of people, the password PIN."""

from __future__ import annotations

from models.spec import parse_spec
from tests.prefect.documents import PINS, decide, drafted_and_submitted, notice_data


def test_the_review_form_offers_exactly_the_eligible_people_and_hides_the_pin(served, tmp_path):
    desk = served.desk()
    doc, run_id = drafted_and_submitted(served, tmp_path)
    form = desk.form(run_id)
    fields = form.schema["properties"]
    assert {name: field["title"] for name, field in fields.items()} == {
        "verdict": "结论",
        "opinion": "意见",
        "person": "核稿人",
        "pin": "PIN",
    }
    assert fields["verdict"]["enum"] == ["同意", "退回修改"]
    assert fields["person"]["enum"] == ["李红梅"]
    assert fields["pin"]["format"] == "password" and fields["pin"].get("writeOnly") is True
    assert set(form.schema["required"]) == {"verdict", "person", "pin"}
    assert "核稿" in form.description and "关于印发" in form.description

    # the server itself refuses an answer outside the form: a person not offered
    answer = {"verdict": "同意", "person": "张伟", "pin": "639284"}
    refused = desk._call(lambda client: client.resume_flow_run(_uuid(run_id), run_input=answer))
    assert refused.status.value == "REJECT" and desk.state(run_id).is_paused()

    code, _ = decide(served, doc, "李红梅", "--return", "--opinion", "请补充抄送")
    assert code == 0
    revision = desk.form(run_id)
    fields = revision.schema["properties"]
    assert [fields[name]["title"] for name in ("action", "person", "pin", "note", "spec")] == [
        "处理",
        "拟稿人",
        "PIN",
        "修改说明",
        "公文内容（修改稿）",
    ]
    assert fields["action"]["enum"] == ["重新送审", "撤销"] and fields["person"]["enum"] == ["郭佳佳"]
    assert "请补充抄送" in revision.description
    spec_fields = _definition(revision.schema, fields["spec"])["properties"]
    assert (spec_fields["doc_type"]["title"], spec_fields["title"]["title"], spec_fields["cc"]["title"]) == (
        "文种",
        "标题",
        "抄送",
    )
    assert fields["spec"]["default"]["title"] == notice_data()["title"]  # the form opens on the current content

    desk.answer(
        run_id,
        {"action": "撤销", "person": "郭佳佳", "pin": PINS["郭佳佳"], "spec": parse_spec(notice_data())[0].to_data()},
    )
    assert desk.finished(run_id) == "已撤销"


def _uuid(run_id: str):
    from uuid import UUID

    return UUID(run_id)


def _definition(schema: dict, field: dict) -> dict:
    reference = field.get("$ref") or field.get("allOf", [{}])[0].get("$ref")
    name = reference.rsplit("/", 1)[-1]
    return (schema.get("definitions") or schema["$defs"])[name]
