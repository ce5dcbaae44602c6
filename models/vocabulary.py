"""Controlled vocabulary of the 党政机关公文处理工作条例 (2012) and GB/T 9704-2012.

- 文种 (DocType): the fifteen kinds of 条例 第八条, each with its 行文方向
  (上行文 to a superior, 下行文 to subordinates, 平行文 between equals).
- 密级 (Secrecy), 紧急程度 (Urgency): 条例 第九条 (二)(三).
- 保管期限 (Retention): DA/T 22-2015 terms 永久, 30年, 10年.
- Roles a person can hold in the approval route.
- The office's time zone (OFFICE_ZONE): its calendar days and the times people are told.
"""

from __future__ import annotations

from enum import StrEnum
from zoneinfo import ZoneInfo

#: The office's time zone (Asia/Shanghai): its calendar days, and the times people are told.
OFFICE_ZONE = ZoneInfo("Asia/Shanghai")


class DocType(StrEnum):
    """文种 — the fifteen kinds of official document (条例 第八条)."""

    RESOLUTION = "决议"
    DECISION = "决定"
    ORDER = "命令"
    COMMUNIQUE = "公报"
    ANNOUNCEMENT = "公告"
    PUBLIC_NOTICE = "通告"
    OPINION = "意见"
    NOTICE = "通知"
    CIRCULAR = "通报"
    REPORT = "报告"
    REQUEST = "请示"
    REPLY = "批复"
    MOTION = "议案"
    LETTER = "函"
    MINUTES = "纪要"


class Direction(StrEnum):
    """行文方向: 上行文, 下行文, 平行文."""

    UPWARD = "上行文"
    DOWNWARD = "下行文"
    LATERAL = "平行文"


#: The directions each 文种 may take. 意见 may go any way; 纪要 goes down or across.
DIRECTIONS: dict[DocType, frozenset[Direction]] = {
    DocType.RESOLUTION: frozenset({Direction.DOWNWARD}),
    DocType.DECISION: frozenset({Direction.DOWNWARD}),
    DocType.ORDER: frozenset({Direction.DOWNWARD}),
    DocType.COMMUNIQUE: frozenset({Direction.DOWNWARD}),
    DocType.ANNOUNCEMENT: frozenset({Direction.DOWNWARD}),
    DocType.PUBLIC_NOTICE: frozenset({Direction.DOWNWARD}),
    DocType.OPINION: frozenset(Direction),
    DocType.NOTICE: frozenset({Direction.DOWNWARD}),
    DocType.CIRCULAR: frozenset({Direction.DOWNWARD}),
    DocType.REPORT: frozenset({Direction.UPWARD}),
    DocType.REQUEST: frozenset({Direction.UPWARD}),
    DocType.REPLY: frozenset({Direction.DOWNWARD}),
    DocType.MOTION: frozenset({Direction.UPWARD}),
    DocType.LETTER: frozenset({Direction.LATERAL}),
    DocType.MINUTES: frozenset({Direction.DOWNWARD, Direction.LATERAL}),
}

#: 文种 that address the public or record a meeting and so have no 主送机关.
WITHOUT_MAIN_RECIPIENT: frozenset[DocType] = frozenset(
    {
        DocType.RESOLUTION,
        DocType.ORDER,
        DocType.COMMUNIQUE,
        DocType.ANNOUNCEMENT,
        DocType.PUBLIC_NOTICE,
        DocType.MINUTES,
    }
)


class Secrecy(StrEnum):
    """密级 (条例 第九条 (二)): 绝密, 机密, 秘密."""

    SECRET = "秘密"
    CONFIDENTIAL = "机密"
    TOP_SECRET = "绝密"


class Urgency(StrEnum):
    """紧急程度 (条例 第九条 (三)): 特急, 加急."""

    EXTRA_URGENT = "特急"
    URGENT = "加急"


class Retention(StrEnum):
    """保管期限 (DA/T 22-2015): 永久, 30年, 10年."""

    PERMANENT = "永久"
    THIRTY_YEARS = "30年"
    TEN_YEARS = "10年"

    @property
    def years(self) -> int | None:
        """Years of retention; None for 永久."""
        return None if self is Retention.PERMANENT else int(self.value.removesuffix("年"))

    @property
    def code(self) -> str:
        """The 档号 segment of this term: Y (永久), D30, D10."""
        return "Y" if self is Retention.PERMANENT else f"D{self.years}"


class Role(StrEnum):
    """Roles a person holds in the directory (design.md §3.2)."""

    DRAFTER = "drafter"
    REVIEWER = "reviewer"
    COSIGNER = "cosigner"
    SIGNER = "signer"
    REGISTRAR = "registrar"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"  # 管理员: changes the directory (org load, org passwd)
    OPERATOR = "operator"  # 运维: the whole Prefect API behind the 门户 (deployments, work pools, blocks …)
