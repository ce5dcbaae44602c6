"""The 公文 a year of 宣传工作 drafts by itself (pure): next year's 实施方案 and the 季度通报.

- ``next_year_notice``: the 印发 notice of next year's 实施方案 from last year's (the seed
  汴打假〔2022〕3号 carries its plan as 印发件). Everything is kept for the drafter to revise
  — 主送, 抄报, 抄送, 审批路径, the plan's text — except what the new year changes: the year
  in every 「2022年」 (never inside a 〔〕 reference number nor another number), the reference
  to the national office's notice the plan follows (``NationalNotice``; any 《…》（代字〔年〕N号）
  of last year whose 代字 is not one of the directory's, the city's own standing notices
  keeping theirs), the 成文日期 and 印发日期 (left to the 签发 day), and the due date of the
  units' own plans (a sentence after the notice's first paragraph, its date replaced).
- ``circular_spec``: the 通报 of a quarter's 工作信息 (the seed: 市领导小组办公室每季度通报
  信息报送情况 …… 经省领导小组办公室工作简报、中国打击侵权假冒工作网采用的工作信息，
  市领导小组办公室将予以通报表扬), issued by the office to the notice's 主送: the totals,
  the units that reported nothing, the 通报表扬 of each adopted report, and the ranked
  figures as a 统计表 in its 附件.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from models.errors import InputError
from models.layout import chinese_date
from models.refno import ReferenceNumber
from models.spec import Attachment, DocumentSpec
from models.work import QUARTERS, Outcome, Ranked, ReportFacts, figures_of, quarter_span, totals

#: 《标题》（代字〔年份〕N号）: a document cited with its 发文字号.
_CITATION = re.compile(r"《(?P<title>[^《》]+)》（(?P<ref>[^（）《》]{1,20}〔(?P<year>\d{4})〕\d+号)）")
#: The sentence giving the units' plans their due date.
_DUE = re.compile(r"于\d{4}年\d{1,2}月\d{1,2}日前将")
#: Where the drafter must complete a citation of the national notice.
PENDING_REF = "文号待补"
TABLE_COLUMNS = ["名次", "单位", "报送信息", "推送省办", "省简报采用", "国家网站采用"]


@dataclass(frozen=True)
class NationalNotice:
    """The national office's notice a year's plan follows (全国打击侵权假冒工作领导小组办公室
    《关于做好2023年打击侵权假冒宣传工作的通知》, 打假办发〔2023〕N号)."""

    title: str
    ref: str

    def __post_init__(self) -> None:
        if not self.title.strip() or "《" in self.title or "》" in self.title:
            raise InputError("全国通知的标题不能为空，也不含书名号", "national_title")
        ReferenceNumber.parse(self.ref, "national_ref")


def roll_year(text: str, previous: int, year: int) -> str:
    """Every 「previous年」 as 「year年」; reference numbers (〔2022〕) and longer numbers are left alone."""
    return re.sub(rf"(?<![〔\d]){previous}(?=\s*年)", str(year), text)


def _cite_national(text: str, previous: int, national: NationalNotice | None, local: set[str]) -> tuple[str, int]:
    """Last year's citations of outside notices replaced by the national notice (or marked 文号待补)."""
    found = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        try:
            code = ReferenceNumber.parse(match["ref"]).code
        except InputError:
            return match[0]
        if int(match["year"]) != previous or code in local:
            return match[0]
        found += 1
        if national is None:
            return f"《{match['title']}》（{PENDING_REF}）"
        return f"《{national.title}》（{national.ref}）"

    return _CITATION.sub(replace, text), found


def _with_due(body: str, sentence: str, due: dt.date) -> str:
    """The notice's body with the plans' due date: replaced where it is given, else a sentence after
    the first paragraph."""
    if _DUE.search(body):
        return _DUE.sub(f"于{chinese_date(due)}前将", body, count=1)
    first, _, rest = body.strip().partition("\n\n")
    return f"{first}\n\n{sentence}" + (f"\n\n{rest}" if rest else "")


def next_year_notice(
    previous: DocumentSpec,
    *,
    year: int,
    plans_due: dt.date,
    office: str,
    national: NationalNotice | None,
    local_codes: set[str],
) -> tuple[DocumentSpec, list[str]]:
    """Next year's 印发 notice and plan from last year's; the notes for the drafter."""
    if previous.enclosure is None:
        raise InputError("上一年度的通知没有印发件（实施方案）", "enclosure")
    last = year - 1
    if plans_due.year != year:
        raise InputError(f"方案报送期限 {plans_due} 不在 {year} 年度内", "plans_due")
    plan_body, cited = _cite_national(previous.enclosure.body, last, national, local_codes)
    notes = []
    if cited == 0:
        notes.append("上一年度方案中没有找到全国通知的引用，请拟稿人补充")
    elif national is None:
        notes.append(f"方案引用的全国通知文号待补（「{PENDING_REF}」），请拟稿人修改")
    enclosure = Attachment(title=roll_year(previous.enclosure.title, last, year), body=roll_year(plan_body, last, year))
    addressees = "、".join(previous.to) or "各单位"
    due_sentence = f"请{addressees}于{chinese_date(plans_due)}前将本单位、本辖区年度宣传工作方案报送{office}。"
    data = previous.model_dump(
        mode="json", exclude_none=True, exclude={"date", "print_date", "ref", "copy_no", "enclosure"}
    )
    data["title"] = roll_year(previous.title, last, year)
    data["body"] = _with_due(roll_year(previous.body, last, year), due_sentence, plans_due)
    data["attachments"] = [
        {**a, "title": roll_year(a["title"], last, year), "body": roll_year(a["body"], last, year)}
        for a in data.get("attachments", [])
    ]
    data["enclosure"] = enclosure.model_dump(exclude_none=True)
    return DocumentSpec.model_validate(data), notes


def _span_text(year: int, quarter: int) -> str:
    start, end = quarter_span(year, quarter)
    return f"{chinese_date(start)}至{chinese_date(end)}"


def circular_spec(
    *,
    notice: DocumentSpec,
    office: str,
    year: int,
    quarter: int,
    ranked: list[Ranked],
    names: dict[str, str],
    adopted: list[tuple[ReportFacts, list[Outcome]]],
) -> DocumentSpec:
    """The 季度通报 of 工作信息, from the year's 印发 notice (its 主送, its 审批路径) and the figures.

    ``names`` gives each unit's name as the 通报 writes it (its 简称); ``adopted`` the reports
    adopted in the quarter with where, in the order to commend them.
    """
    season = f"{year}年{QUARTERS[quarter]}"
    plan = notice.enclosure.title if notice.enclosure else notice.title
    total = totals(r.counts for r in ranked)
    order = list(names)
    silent = [
        names[r.counts.unit] for r in sorted(ranked, key=lambda r: order.index(r.counts.unit)) if not r.counts.submitted
    ]
    if not silent:
        silence = "各单位本季度均报送了工作信息。"
    elif len(silent) == len(ranked):
        silence = "本季度各单位均未报送工作信息。"
    else:
        silence = f"{'、'.join(silent)}等{len(silent)}个单位本季度未报送工作信息。"
    paragraphs = [
        f"按照《{plan}》要求，现将{season}（{_span_text(year, quarter)}）各县（区）、各成员单位打击侵权假冒"
        "工作信息报送情况通报如下。",
        "一、总体情况",
        f"本季度{office}共收到工作信息{total.submitted}条，向省领导小组办公室推送{total.forwarded}条，"
        f"被省领导小组办公室工作简报采用{total.province}条，被中国打击侵权假冒工作网采用{total.national}条。"
        f"{silence}各单位报送情况见附件。",
        "二、通报表扬",
    ]
    if adopted:
        paragraphs.append("经省领导小组办公室工作简报、中国打击侵权假冒工作网采用的下列工作信息，予以通报表扬：")
        paragraphs += [
            f"{i}. {names[report.unit]}报送的《{report.title}》，被{'和'.join(o.where for o in where)}采用。"
            for i, (report, where) in enumerate(adopted, start=1)
        ]
    else:
        paragraphs.append("本季度暂无被省领导小组办公室工作简报、中国打击侵权假冒工作网采用的工作信息。")
    paragraphs += [
        "三、工作要求",
        "各县（区）、各成员单位要进一步提高认识，加强工作信息报送，按时保质保量报送工作信息和经验材料，"
        "突出工作亮点和典型案例，提高信息质量和采用率，全面展示打击侵权假冒工作成效。",
    ]
    rows = [[str(r.rank), names[r.counts.unit], *map(str, figures_of(r.counts))] for r in ranked]
    rows.append(["", "合计", *map(str, figures_of(total))])
    table = Attachment(
        title=f"{season}打击侵权假冒工作信息报送情况统计表",
        body=f"统计时段：{_span_text(year, quarter)}。名次依次按中国打击侵权假冒工作网采用、省领导小组办公室"
        "工作简报采用、推送省领导小组办公室、报送信息的条数排列，条数相同的名次并列。",
        table={"columns": TABLE_COLUMNS, "rows": rows},
    )
    route = notice.approval
    approval = None
    if route is not None and route.sign:
        review = {"review": list(route.review)} if "review" in route.model_fields_set else {}
        approval = {**review, "sign": route.sign}
    return DocumentSpec.model_validate(
        {
            "doc_type": "通报",
            "issuer": office,
            "title": f"关于{season}打击侵权假冒工作信息报送情况的通报",
            "to": list(notice.to),
            "body": "\n\n".join(paragraphs),
            "attachments": [table.model_dump(exclude_none=True)],
            **({"approval": approval} if approval else {}),
        }
    )
