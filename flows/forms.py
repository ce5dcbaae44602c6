"""The forms a suspended document-lifecycle run shows in the Prefect UI (审核单, 修改单).

Prefect renders a suspended run's Resume form from the JSON schema of the model it
waits for, and the server checks an answer against that schema before it stores
it. So each form is built for the moment: the 审核人 field is a choice of exactly
the people who may decide this step now (the 会签 parties who have not yet
agreed, say), the PIN is a password field, and the description above the form
names the document, the step and, after a refused attempt, why it was refused.
``gongwen decide`` sends the same fields through the API.
"""

from __future__ import annotations

from typing import Literal

from prefect.input import RunInput
from pydantic import Field, SecretStr, create_model

from models.spec import DocumentSpec
from storage.review import RESUBMIT, REVISION, ReviewStage


class DecisionForm(RunInput):
    """审核单: the answer to 核稿, 会签 or 签发."""

    verdict: Literal["同意", "退回修改"] = Field(title="结论")
    opinion: str = Field(default="", title="意见", max_length=2000)
    person: str = Field(title="审核人")
    pin: SecretStr = Field(title="PIN", description="审核人本人的 PIN（目录中登记的数字密码）")


class RevisionForm(RunInput):
    """修改单: the drafter's answer to 退回修改 — the revised content and 重新送审, or 撤销."""

    action: Literal["重新送审", "撤销"] = Field(title="处理")
    person: str = Field(title="拟稿人")
    pin: SecretStr = Field(title="PIN", description="拟稿人本人的 PIN")
    note: str = Field(default="", title="修改说明", max_length=2000)
    spec: DocumentSpec = Field(title="公文内容（修改稿）")


def form_for(stage: ReviewStage, spec: DocumentSpec | None = None) -> type[RunInput]:
    """The form for the stage a document is at (``spec``: the current content, for 修改单)."""
    if stage.step == REVISION:
        model = create_model(
            "RevisionForm",
            __base__=RevisionForm,
            person=_choice_of(stage.eligible, "拟稿人"),
            action=(Literal["重新送审", "撤销"], Field(default=RESUBMIT, title="处理")),
            spec=(DocumentSpec, Field(default=spec, title="公文内容（修改稿）")),
        )
        return model.with_initial_data(description=describe(stage))
    model = create_model("DecisionForm", __base__=DecisionForm, person=_choice_of(stage.eligible, f"{stage.step}人"))
    return model.with_initial_data(description=describe(stage))


def _choice_of(names: tuple[str, ...], title: str) -> tuple[object, object]:
    """A field whose value must be one of ``names``, shown as a choice list (an ``enum``, even of one name)."""

    def as_enum(schema: dict) -> None:
        schema.pop("const", None)
        schema["enum"] = list(names)

    return Literal[names], Field(title=title, json_schema_extra=as_enum)  # type: ignore[valid-type]


def describe(stage: ReviewStage) -> str:
    """The markdown shown above the form."""
    lines = [
        f"### 《{stage.title}》",
        "",
        f"公文编号 {stage.document_id}，第 {stage.version} 稿，第 {stage.round} 轮审核。",
    ]
    if stage.step == REVISION:
        lines.append("本文已退回修改。请拟稿人修改后重新送审，或撤销。")
        lines += [f"- {r.step} {r.person}：{r.opinion or '（未填写意见）'}" for r in stage.returned]
    else:
        lines.append(f"当前环节：**{stage.step}**，待 {'、'.join(stage.eligible)} 办理。")
        if stage.approved:
            lines.append(f"本环节已同意：{'、'.join(stage.approved)}。")
    if stage.refused:
        lines += ["", f"> 上次提交未被接受：{stage.refused}。请核对后重新填写。"]
    return "\n".join(lines)
