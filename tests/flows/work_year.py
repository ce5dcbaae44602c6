"""A year of 宣传工作 with fixed dates, for the tests: the seed notice issued in 2022, the 2023 plan
issued in January, the units' plans arriving (two counties late), 工作信息 over four quarters."""

from __future__ import annotations

import datetime as dt

from actions import deciding, drafting
from models.identity import Credentials
from models.spec import DocumentSpec
from models.work import Outcome, parse_report
from models.work_drafts import NationalNotice
from storage import documents, registration, work
from storage.database import Database
from tests.storage.helpers import DRAFTER

D = dt.date
NATIONAL = NationalNotice("关于做好2023年打击侵权假冒宣传工作的通知", "打假办发〔2023〕1号")
PLANS_DUE = D(2023, 2, 28)
SIGNED_2023 = D(2023, 1, 16)

MEMBERS = [
    "中共开封市委宣传部",
    "开封市市场监督管理局",
    "开封市公安局",
    "开封市商务局",
    "开封市农业农村局",
    "开封市文化广电和旅游局",
    "开封市工业和信息化局",
    "开封市邮政管理局",
    "开封市中级人民法院",
    "开封市人民检察院",
    "开封海关",
]
COUNTY_NAMES = ["杞县", "通许县", "尉氏县", "兰考县", "祥符区", "鼓楼区", "龙亭区", "顺河回族区", "禹王台区"]
COUNTIES = [f"{name}打击侵权假冒工作领导小组" for name in COUNTY_NAMES]

#: Plans that arrive on time (by 2023-02-28), in the order they arrive; 开封海关 never sends one.
ON_TIME = [
    (unit, D(2023, 2, 1 + i))
    for i, unit in enumerate(MEMBERS[:-1] + [c for c in COUNTIES if "通许" not in c and "兰考" not in c])
]
#: The two counties whose plans come late, after being chased.
LATE = [(COUNTIES[1], D(2023, 3, 6)), (COUNTIES[3], D(2023, 3, 10))]

#: 工作信息: unit (as the office writes it), title, date, and the days of 推送 / 省简报采用 / 国家网站采用.
REPORTS = [
    # Q1
    ("市公安局", "开封警方破获一起特大假冒注册商标案", D(2023, 1, 10), D(2023, 1, 11), D(2023, 1, 20), D(2023, 2, 3)),
    ("市公安局", "市公安局部署开展春雷行动", D(2023, 2, 15), D(2023, 2, 16), None, None),
    ("市市场监督管理局", "市市场监管局开展春节市场专项检查", D(2023, 1, 18), D(2023, 1, 19), D(2023, 2, 1), None),
    (COUNTIES[0], "杞县开展知识产权宣传周活动", D(2023, 3, 20), D(2023, 3, 21), D(2023, 4, 6), None),
    (COUNTIES[3], "兰考县查处一批侵权假冒案件", D(2023, 3, 28), None, None, None),
    # Q2
    (COUNTIES[7], "顺河回族区开展世界知识产权日宣传", D(2023, 4, 26), D(2023, 4, 27), D(2023, 5, 10), D(2023, 5, 20)),
    ("市委宣传部", "市委宣传部组织集中宣传报道", D(2023, 4, 20), D(2023, 4, 21), None, None),
    (COUNTIES[0], "杞县开展铁拳行动", D(2023, 5, 8), None, None, None),
    ("市中级人民法院", "市中院发布知识产权司法保护典型案例", D(2023, 4, 25), D(2023, 4, 26), D(2023, 5, 15), None),
    # Q3
    (COUNTIES[5], "鼓楼区开展知识产权进校园普法", D(2023, 9, 1), D(2023, 9, 2), None, None),
    (COUNTIES[0], "杞县开展秋风行动", D(2023, 8, 15), D(2023, 8, 16), D(2023, 8, 30), None),
    ("开封海关", "开封海关查获一批侵权货物", D(2023, 7, 12), D(2023, 7, 13), D(2023, 7, 25), D(2023, 8, 5)),
    # Q4
    ("市公安局", "开封警方开展昆仑行动", D(2023, 10, 10), D(2023, 10, 11), D(2023, 10, 25), None),
    (COUNTIES[2], "尉氏县开展双十一网络市场整治", D(2023, 11, 12), None, None, None),
    (COUNTIES[0], "杞县打击侵权假冒工作取得新成效", D(2023, 12, 20), D(2023, 12, 21), None, D(2023, 12, 29)),
    (COUNTIES[7], "顺河回族区开展知识产权进企业", D(2023, 12, 28), D(2023, 12, 29), D(2024, 1, 10), None),
]
#: The one step that happens after the fourth quarter's 通报 (in January 2024).
AFTER_Q4 = D(2023, 12, 31)


def issue(db: Database, document_id: int, pins: dict[str, str], on: dt.date) -> str:
    """送审 (by its drafter), every approval (signed ``on``), 登记: the 发文字号."""
    with db.transaction() as session:
        document = documents.get(session, document_id=document_id)
    drafting.submit(db, document_id=document_id, by=Credentials(document.drafter, pins[document.drafter]))
    for name in (*document.review, *document.cosign, document.sign):
        deciding.decide(db, document_id=document_id, by=Credentials(name, pins[name]), approve=True, on=on)
    return str(registration.register(db, document_id=document_id))


def seed_issued(db: Database, notice: DocumentSpec, pins: dict[str, str]) -> int:
    """The seed notice 汴打假〔2022〕3号, issued on 2022-04-29."""
    document = drafting.draft(db, spec=notice, by=Credentials(DRAFTER, pins[DRAFTER]))
    assert issue(db, document.id, pins, D(2022, 4, 29)) == "汴打假〔2022〕3号"
    return document.id


def record_between(db: Database, after: dt.date, until: dt.date, ids: dict[str, int]) -> dict[str, int]:
    """The reports dated after ``after`` up to ``until``, and each step that happened in that time;
    ``ids`` (title → report id) grows with the reports recorded."""
    today = D(2024, 1, 31)
    for unit, title, date, *_ in REPORTS:
        if after < date <= until:
            data = {"year": 2023, "unit": unit, "title": title, "date": date, "channel": "电子邮件"}
            ids[title] = work.submit_report(db, report=parse_report(data), actor=DRAFTER, today=today).id
    for _, title, _, *steps in REPORTS:
        for outcome, day in zip(Outcome, steps, strict=True):
            if day is not None and after < day <= until:
                work.mark_report(db, report_id=ids[title], outcome=outcome, on=day, actor=DRAFTER, today=today)
    return ids
