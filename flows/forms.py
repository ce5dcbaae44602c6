"""The forms a suspended document-lifecycle run shows in the Prefect UI (审核单, 修改单).

Prefect renders a suspended run's Resume form from the JSON schema of the model it
waits for, and the server checks an answer against that schema before it stores
it. A form asks only for the decision: who answers is the person signed in at the
门户, which puts their name and its stamp into the answer (models.stamps) after
asking gongwen whether they may answer this form now; no name or PIN is typed in,
and none passes through Prefect. The description above the form names the document,
the step, who may answer it now and, after a refused attempt, why it was refused.
``gongwen decide`` sends the same fields through the 门户.
"""

from __future__ import annotations

from typing import Literal

from prefect.input import RunInput
from pydantic import Field, create_model

from models.spec import DocumentSpec
from storage.review import RESUBMIT, REVISION, ReviewStage


class DecisionForm(RunInput):
    """审核单: the answer to 核稿, 会签 or 签发."""

    verdict: Literal["同意", "退回修改"] = Field(title="结论")
    opinion: str = Field(default="", title="意见", max_length=2000)


class RevisionForm(RunInput):
    """修改单: the drafter's answer to 退回修改 — the revised content and 重新送审, or 撤销."""

    action: Literal["重新送审", "撤销"] = Field(title="处理")
    note: str = Field(default="", title="修改说明", max_length=2000)
    spec: DocumentSpec = Field(title="公文内容（修改稿）")


def form_for(stage: ReviewStage, spec: DocumentSpec | None = None) -> type[RunInput]:
    """The form for the stage a document is at (``spec``: the current content, for 修改单)."""
    if stage.step == REVISION:
        model = create_model(
            "RevisionForm",
            __base__=RevisionForm,
            action=(Literal["重新送审", "撤销"], Field(default=RESUBMIT, title="处理")),
            spec=(DocumentSpec, Field(default=spec, title="公文内容（修改稿）")),
        )
        return model.with_initial_data(description=describe(stage))
    return DecisionForm.with_initial_data(description=describe(stage))


def describe(stage: ReviewStage) -> str:
    """The markdown shown above the form."""
    lines = [
        f"### 《{stage.title}》",
        "",
        f"公文编号 {stage.document_id}，第 {stage.version} 稿，第 {stage.round} 轮审核。",
    ]
    if stage.step == REVISION:
        lines.append(f"本文已退回修改。请拟稿人（{'、'.join(stage.eligible)}）修改后重新送审，或撤销。")
        lines += [f"- {r.step} {r.person}：{r.opinion or '（未填写意见）'}" for r in stage.returned]
    else:
        lines.append(f"当前环节：**{stage.step}**，待 {'、'.join(stage.eligible)} 办理。")
        if stage.approved:
            lines.append(f"本环节已同意：{'、'.join(stage.approved)}。")
    lines += ["", "以您登录门户的身份提交；不在本环节办理人之列的提交将被拒绝。"]
    if stage.refused:
        lines += ["", f"> 上次提交未被接受：{stage.refused}。请核对后重新填写。"]
    return "\n".join(lines)
