"""印制版式 (print layout): every element of a 公文 ready to print, per GB/T 9704-2012.

``layout_for`` turns a spec and the directory into a ``PrintLayout``: texts already
formatted the way the standard prints them (份号 zero padded, 密级★保密期限, 主送
ending with a full-width colon, 成文日期 in Arabic numerals without leading zeros,
版记 lines ending with 。) and the few positions the standard states in characters
(字) and lines (行). How they are drawn on the page (fonts, millimetres, Word XML)
belongs to ``doc_templates``; this module is pure.

Clauses of GB/T 9704-2012 implemented here:

- §7.2.1 份号, §7.2.2 密级和保密期限, §7.2.3 紧急程度 (stacked top left);
- §7.2.4 发文机关标志 (联合行文: the issuers stacked, 文件 once on their right);
- §7.2.5 发文字号, §7.2.6 签发人 (上行文);
- §7.3.1 标题, §7.3.2 主送机关, §7.3.3 正文 with its four 结构层次;
- §7.3.4 附件说明, §7.3.5 署名, 成文日期 and 印章, §7.3.6 附注, §7.3.7 附件;
- §7.4 版记: 抄送 (and 抄报, local practice, on the line above), 印发机关 and 印发日期;
- §10.1 信函格式 (函), §10.3 纪要格式 (纪要).

The 印发件 of a 印发 notice (``spec.enclosure``, e.g. the annual plan) is not an
附件: it gets no 附件说明 line and no 附件N label; it starts on a new page after the
notice with its own title, and the 版记 follows it at the very end.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum

from models.body import Paragraph, paragraphs
from models.directory import Agency, Directory
from models.refno import ReferenceNumber
from models.rules import direction, route_for
from models.spec import Attachment, DocumentSpec
from models.vocabulary import Direction, DocType

#: 版心 width in 3号 characters (GB/T 9704 §5.2.3: 每行排28个字).
LINE_CHARS = 28
#: 版记 line width in 4号 characters: 156 mm / 4.94 mm, less 左右各空一字 (§7.4.2).
IMPRINT_LINE_CHARS = 29
#: 标题 line width in 2号 characters (§7.3.1): 156 mm / 7.76 mm = 20.1, less one for the
#: word processor's own margins (LibreOffice sets 19 full-width characters a line).
TITLE_LINE_CHARS = 19
#: 文种 and plan words a long 标题 may break before (回行时词意完整, §7.3.1).
_TITLE_TAILS = (
    "实施方案",
    "工作方案",
    "方案",
    "办法",
    "规定",
    "细则",
    "计划",
    "要点",
    "意见",
    "通知",
    "通报",
    "报告",
    "请示",
    "批复",
    "决定",
    "纪要",
    "函",
)
#: 文件 — the word after the issuers' names in a 发文机关标志 (§7.2.4).
FILE_WORD = "文件"


class Kind(StrEnum):
    """公文格式: which template prints the document."""

    FILE = "文件格式"  # §7: 下行文 and 平行文
    UPWARD = "上行文格式"  # §7.2.5–7.2.6: 文号 left, 签发人 right
    LETTER = "信函格式"  # §10.1, for 函
    MINUTES = "纪要格式"  # §10.3, for 纪要


@dataclass(frozen=True)
class TableLayout:
    """表格 of an 附件: 表头, rows, and each column's width in 3号 characters (字), filling the
    版心's 28 (§5.2.3) in proportion to what the column holds."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]


@dataclass(frozen=True)
class Page:
    """A part that starts on a new page: an 附件 (§7.3.7) or the 印发件.

    ``label`` is 附件 / 附件1 for an 附件 and empty for the 印发件; ``table`` follows the
    paragraphs when the part has one.
    """

    label: str
    title: str
    title_lines: tuple[str, ...]
    paragraphs: tuple[Paragraph, ...]
    table: TableLayout | None = None


@dataclass(frozen=True)
class PrintLayout:
    """Every element of a 公文, formatted and in the order GB/T 9704-2012 prints it.

    Empty strings and tuples mean "not printed". Character positions count 3号
    characters from the right edge of the 版心 (右空N字).
    """

    kind: Kind
    copy_no: str  # §7.2.1 份号, six digits
    secrecy: str  # §7.2.2 密级★保密期限
    urgency: str  # §7.2.3 紧急程度
    masthead: tuple[str, ...]  # §7.2.4 发文机关标志, one line per issuer
    masthead_suffix: str  # §7.2.4 文件 once, right of stacked issuers (联合行文)
    ref: str  # §7.2.5 发文字号, empty for a draft
    signers: str  # §7.2.6 签发人 names (上行文)
    title: str  # §7.3.1 标题
    title_lines: tuple[str, ...]  # §7.3.1 its lines, where a break is needed to keep words whole
    to_line: str  # §7.3.2 主送机关, ends with ：
    body: tuple[Paragraph, ...]  # §7.3.3 正文
    attachment_notes: tuple[str, ...]  # §7.3.4 附件说明: 附件：1.… then 2.…
    signatures: tuple[str, ...]  # §7.3.5 发文机关署名, full names
    signed_on: str  # §7.3.5.4 成文日期, 2022年4月29日
    signature_gap: int  # blank lines between 正文 (or 附件说明) and 署名
    signature_indent: float  # 署名 右空N字
    date_indent: float  # 成文日期 右空N字
    seal: str | None  # §7.3.5.1 印章 image, None for the unsealed layout
    note: tuple[str, ...]  # §7.3.6 附注 lines, in （）
    enclosure: Page | None  # the 印发件
    attachments: tuple[Page, ...]  # §7.3.7 附件
    cc_report_line: str  # 抄报：…。
    cc_line: str  # §7.4.2 抄送：…。
    printer: str  # §7.4.3 印发机关
    print_date: str  # §7.4.3 2022年4月29日印发
    print_same_line: bool  # 印发机关 and 印发日期 fit on one line
    imprint_lines: int  # lines the 版记 takes, so the last page keeps room for it


def layout_for(
    spec: DocumentSpec,
    directory: Directory,
    *,
    ref: ReferenceNumber | None,
    signed_on: dt.date | None = None,
    issued_on: dt.date | None = None,
) -> PrintLayout:
    """The print layout of ``spec``.

    - 成文日期 = ``spec.date``, else ``signed_on`` (the 签发 day); empty when neither.
    - 印发日期 = ``spec.print_date``, else ``issued_on``, else the 成文日期.
    - 印发机关 = ``spec.printer`` (full name when the directory knows it), else the
      lead issuer's full name.
    - 发文字号 = ``ref``, else ``spec.ref``, else empty (a draft).
    - 署名 are the issuers' full names from the directory.
    """
    issuers = [directory.agency(name, f"issuer[{i}]") for i, name in enumerate(spec.issuer)]
    kind = _kind(spec, directory)
    number = ref or spec.reference
    signed = spec.date or signed_on
    issued = spec.print_date or issued_on or signed
    signatures = () if kind is Kind.MINUTES else tuple(a.name for a in issuers)
    seal = issuers[0].seal if len(issuers) == 1 and kind is not Kind.MINUTES else None
    date_text = chinese_date(signed) if signed else ""
    signature_indent, date_indent = closing_indents(signatures, date_text, sealed=seal is not None)
    printer = spec.printer or issuers[0].name
    if directory.is_agency(printer):
        printer = directory.agency(printer).name
    print_date = f"{chinese_date(issued)}印发" if issued else ""
    cc_report_line = _imprint_line("抄报", spec.cc_report)
    cc_line = _imprint_line("抄送", spec.cc)
    print_same_line = text_width(printer) + text_width(print_date) + 1 <= IMPRINT_LINE_CHARS
    return PrintLayout(
        kind=kind,
        copy_no=f"{spec.copy_no:06d}" if spec.copy_no is not None else "",
        secrecy=_secrecy(spec),
        urgency=spec.urgency.value if spec.urgency else "",
        masthead=_masthead(kind, issuers),
        masthead_suffix=FILE_WORD if len(issuers) > 1 and kind in (Kind.FILE, Kind.UPWARD) else "",
        ref=str(number) if number else "",
        signers=route_for(spec, directory).sign if kind is Kind.UPWARD else "",
        title=spec.title,
        title_lines=title_lines(spec.title),
        to_line=f"{'，'.join(spec.to)}：" if spec.to else "",
        body=tuple(paragraphs(spec.body)),
        attachment_notes=attachment_notes([a.title for a in spec.attachments]),
        signatures=signatures,
        signed_on=date_text,
        signature_gap=2 if seal else 1,
        signature_indent=signature_indent,
        date_indent=date_indent,
        seal=seal,
        note=_note(spec.note),
        enclosure=_page("", spec.enclosure) if spec.enclosure else None,
        attachments=_attachment_pages(spec),
        cc_report_line=cc_report_line,
        cc_line=cc_line,
        printer=printer,
        print_date=print_date,
        print_same_line=print_same_line,
        imprint_lines=sum(_imprint_rows(line) for line in (cc_report_line, cc_line))
        + (0 if kind is Kind.LETTER else 1 if print_same_line else 2),
    )


def chinese_date(day: dt.date) -> str:
    """成文日期 / 印发日期 (§7.3.5.4, §7.4.3): Arabic numerals, year in full, no 虚位."""
    return f"{day.year}年{day.month}月{day.day}日"


def text_width(text: str) -> float:
    """Width in characters (字): half-width (ASCII) characters count one half."""
    return sum(0.5 if ord(char) < 0x80 else 1.0 for char in text)


def closing_indents(signatures: tuple[str, ...], date: str, *, sealed: bool) -> tuple[float, float]:
    """右空 of 署名 and 成文日期 in characters (§7.3.5).

    Sealed (§7.3.5.1): the date 右空四字, the 署名 centred over it. Unsealed
    (§7.3.5.2): the 署名 右空二字 and the date starting two characters right of the
    署名's first character; a date longer than that 右空二字, the 署名 moving left.
    A 署名 too long for its place moves right until it fits on one line with one
    character to spare (§7.3.5.5: 特殊情况 adjust the spacing).
    """
    name = max((text_width(s) for s in signatures), default=0.0)
    width = text_width(date)
    fits = max(0.0, LINE_CHARS - 1 - name)
    if sealed:
        return min(fits, max(0.0, 4 + (width - name) / 2)), 4.0
    signature = min(fits, max(2.0, 4 + width - name))
    return signature, max(2.0, signature + name - 2 - width)


def title_lines(title: str) -> tuple[str, ...]:
    """标题 lines (§7.3.1: 回行时词意完整，排列对称，长短适宜).

    A title that fits on one line stays one piece. A longer one is broken
    where the reader expects it: before its closing 文种 word when the rest fits
    on the first line (倒梯形: 《…工作》 / 实施方案), else at the break nearest
    to equal lines that splits no word, number or bracket pair and leaves no
    closing punctuation at the start of a line (避头尾).
    """
    width = text_width(title)
    count = math.ceil(width / TITLE_LINE_CHARS)
    if count == 1:
        return (title,)
    for tail in _TITLE_TAILS:
        head = title.removesuffix(tail).removesuffix("的")
        if head != title and count == 2 and text_width(head) <= TITLE_LINE_CHARS:
            return head, title[len(head) :]
    return _balanced(title, count)


#: Words a title line may not be broken inside (词意完整); longest first.
_TITLE_WORDS = tuple(
    sorted(
        """工作 实施 方案 实施方案 工作方案 通知 意见 办法 规定 细则 计划 要点 报告 请示 批复 决定 通报 纪要 公告 通告
        关于 印发 转发 批转 做好 加强 进一步 开展 推进 落实 贯彻 全面 深入 建设 管理 发展 改革 保护
        宣传 打击 侵权 假冒 侵权假冒 伪劣 商品 知识产权 领导 小组 办公室 成员 单位 人民 政府 年度 专项 行动
        整治 检查 安全 生产 监督 市场 信息 经验 材料 报送 考核 制度 机制 体系 情况 问题 活动 会议""".split(),
        key=len,
        reverse=True,
    )
)
_NO_LINE_START = set("》）」』，、。；：！？…")
_NO_LINE_END = set("《（「『")


def _breakable(title: str, at: int) -> bool:
    """May a line end before ``title[at]``? Not inside a word, a number or 《…》 pair."""
    before, after = title[at - 1], title[at]
    if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
        return False
    if after in _NO_LINE_START or before in _NO_LINE_END:
        return False
    for word in _TITLE_WORDS:
        start = title.find(word, max(0, at - len(word) + 1))
        if start != -1 and start < at < start + len(word):
            return False
    return True


def _balanced(title: str, count: int) -> tuple[str, ...]:
    """``title`` in ``count`` lines of about equal width, each break at a breakable place."""
    lines, rest = [], title
    for remaining in range(count, 1, -1):
        target = text_width(rest) / remaining
        candidates = [at for at in range(1, len(rest)) if _breakable(rest, at)]
        fitting = (
            [at for at in candidates if text_width(rest[:at]) <= TITLE_LINE_CHARS] or candidates or [len(rest) // 2]
        )
        at = min(fitting, key=lambda i: (abs(text_width(rest[:i]) - target), -i))
        lines.append(rest[:at])
        rest = rest[at:]
    return (*lines, rest)


def attachment_notes(titles: list[str]) -> tuple[str, ...]:
    """附件说明 (§7.3.4): ``附件：标题`` for one, ``附件：1.标题`` then ``2.标题`` for more."""
    if len(titles) == 1:
        return (f"附件：{titles[0]}",)
    return tuple(f"{'附件：' if i == 1 else ''}{i}.{title}" for i, title in enumerate(titles, start=1))


def _kind(spec: DocumentSpec, directory: Directory) -> Kind:
    if spec.doc_type is DocType.LETTER:
        return Kind.LETTER
    if spec.doc_type is DocType.MINUTES:
        return Kind.MINUTES
    return Kind.UPWARD if direction(spec, directory) is Direction.UPWARD else Kind.FILE


def _secrecy(spec: DocumentSpec) -> str:
    """密级和保密期限 (§7.2.2): ``机密★1年``, or the 密级 alone."""
    if spec.secret is None:
        return ""
    return f"{spec.secret.value}★{spec.secret_term}" if spec.secret_term else spec.secret.value


def _masthead_name(agency: Agency) -> str:
    """An issuer's name in a 标志: its 发文机关标志 without 文件, else its full name."""
    return agency.header.removesuffix(FILE_WORD) if agency.header else agency.name


def _masthead(kind: Kind, issuers: list[Agency]) -> tuple[str, ...]:
    """发文机关标志 lines (§7.2.4, §10.1, §10.3).

    文件格式: the agency's ``header`` (else its name + 文件); 联合行文 stacks every
    issuer's name (文件 goes in ``masthead_suffix``). 信函格式: the lead issuer's
    name only. 纪要格式: the lead issuer's name + 纪要.
    """
    lead = issuers[0]
    if kind is Kind.LETTER:
        return (_masthead_name(lead),)
    if kind is Kind.MINUTES:
        return (f"{_masthead_name(lead)}纪要",)
    if len(issuers) == 1:
        return (lead.header or f"{lead.name}{FILE_WORD}",)
    return tuple(_masthead_name(agency) for agency in issuers)


def _note(note: str | None) -> tuple[str, ...]:
    """附注 (§7.3.6): its lines, the whole in one pair of 圆括号."""
    if not note:
        return ()
    lines = [line.strip() for line in note.strip().splitlines() if line.strip()]
    if not (lines[0].startswith("（") and lines[-1].endswith("）")):
        lines[0] = f"（{lines[0]}"
        lines[-1] = f"{lines[-1]}）"
    return tuple(lines)


def _attachment_pages(spec: DocumentSpec) -> tuple[Page, ...]:
    """附件 pages (§7.3.7): 附件 alone for one, 附件1, 附件2… for more."""
    single = len(spec.attachments) == 1
    return tuple(_page("附件" if single else f"附件{i}", a) for i, a in enumerate(spec.attachments, start=1))


def _page(label: str, part: Attachment) -> Page:
    table = table_layout(part.table.columns, part.table.rows) if part.table else None
    return Page(label, part.title, title_lines(part.title), tuple(paragraphs(part.body)), table)


def table_layout(columns: list[str], rows: list[list[str]]) -> TableLayout:
    """Column widths for a table across the 版心: each column asks for its widest cell plus one
    character (a 表头 longer than two characters may take two lines, so only half of it counts),
    and the 28 characters are shared in proportion to what they ask for."""
    asks = [max([text_width(row[i]) for row in rows] + [_header_room(column)]) + 1 for i, column in enumerate(columns)]
    total = sum(asks)
    return TableLayout(
        tuple(columns), tuple(tuple(row) for row in rows), tuple(ask * LINE_CHARS / total for ask in asks)
    )


def _imprint_line(label: str, names: list[str]) -> str:
    """抄送 (§7.4.2) or 抄报: ``抄送：a，b。``; empty when there is nobody."""
    return f"{label}：{'，'.join(names)}。" if names else ""


def _imprint_rows(line: str) -> int:
    """Lines a 版记 entry takes: wrapped lines align after the colon (3 characters)."""
    if not line:
        return 0
    overflow = text_width(line) - IMPRINT_LINE_CHARS
    return 1 + max(0, math.ceil(overflow / (IMPRINT_LINE_CHARS - 3)))


def _header_room(column: str) -> float:
    """The characters a 表头 needs on a line: all of a short one, half of a longer one (two lines)."""
    width = text_width(column)
    return min(width, max(2.0, math.ceil(width / 2)))
