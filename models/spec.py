"""The document spec (design.md §3.1): what a person writes to draft a 公文.

``DocumentSpec`` holds the 公文要素 of GB/T 9704-2012 §7 as plain data with English
keys; unknown keys, wrong types, impossible dates and over-long values are
errors naming the field, and so are dates outside 1949-10-01 … 2099-12-31. ``parse_spec`` is
the one way in: it refuses control characters (models.validation.clean_text, tabs removed with
a warning) and turns pydantic's complaints into ``InputError``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from models.errors import InputError
from models.refno import ReferenceNumber
from models.validation import clean_text, input_error
from models.vocabulary import DocType, Retention, Secrecy, Urgency

_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: The dates a 公文 of the People's Republic can bear (a year of four digits for the 发文字号).
EARLIEST, LATEST = dt.date(1949, 10, 1), dt.date(2099, 12, 31)


def _strict_date(value: Any) -> Any:
    """成文日期 / 印发日期 as YYYY-MM-DD (a YAML date or a string of that form), between EARLIEST and LATEST."""
    if isinstance(value, dt.datetime):
        raise ValueError("应为日期 YYYY-MM-DD，不含时间")
    if not isinstance(value, dt.date):
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            raise ValueError(f"日期「{value}」应写作 YYYY-MM-DD")
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"日期「{value}」不存在") from None
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"日期「{value}」超出范围（{EARLIEST} 至 {LATEST}）")
    return value


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _not_blank(value: str) -> str:
    """A 要素 that is printed has something to print: not only spaces, 全角空格 or line breaks."""
    if value.isspace():
        raise ValueError("不能为空（只有空白字符）")
    return value


def _printed(max_length: int) -> Any:
    """Text printed in the document: 1 … ``max_length`` characters, not all blank."""
    return Annotated[str, Field(min_length=1, max_length=max_length), AfterValidator(_not_blank)]


IsoDate = Annotated[dt.date, BeforeValidator(_strict_date)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Names = Annotated[list[Name], Field(max_length=500)]
Text = _printed(200_000)


#: 公文要素 names, shown as the titles of the fields of a form made from these models (the Prefect UI).
TITLES = {
    "doc_type": "文种",
    "issuer": "发文机关",
    "title": "标题",
    "to": "主送机关",
    "body": "正文",
    "attachments": "附件",
    "enclosure": "印发件",
    "table": "表格",
    "columns": "表头",
    "rows": "表格各行",
    "note": "附注",
    "date": "成文日期",
    "cc_report": "抄报",
    "cc": "抄送",
    "printer": "印发机关",
    "print_date": "印发日期",
    "copy_no": "份号",
    "secret": "密级",
    "secret_term": "保密期限",
    "urgency": "紧急程度",
    "retention": "保管期限",
    "approval": "审批路径",
    "ref": "发文字号（通常登记时生成）",
    "review": "核稿",
    "cosign": "会签",
    "sign": "签发",
}


def _title(name: str, _field: object) -> str:
    return TITLES.get(name, name)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, field_title_generator=_title)


Cell = Annotated[str, Field(max_length=200)]


class Table(_Strict):
    """表格 of an 附件 (a 统计表, say): a header row (表头) and rows of text, as many cells each.

    Printed after the 附件's 正文 as a real table in 3号 (GB/T 9704 §5.2.2 and §7.3.7:
    附件 elements follow the 正文's fonts), its 表头 repeated on each page.
    """

    columns: Annotated[list[_printed(50)], Field(min_length=1, max_length=12)]
    rows: Annotated[list[Annotated[list[Cell], Field(max_length=12)]], Field(max_length=500)] = []

    @field_validator("rows")
    @classmethod
    def _rows_as_wide_as_the_header(cls, rows: list[list[str]], info: ValidationInfo) -> list[list[str]]:
        width = len(info.data.get("columns") or ())
        for i, row in enumerate(rows, start=1):
            if width and len(row) != width:
                raise ValueError(f"第{i}行有{len(row)}格，表头有{width}列")
        return rows


class Attachment(_Strict):
    """附件 (or the 印发件 of a 印发 notice): a title, a body and, optionally, a table after the body."""

    title: _printed(200)
    body: Text
    table: Table | None = None


class Approval(_Strict):
    """审批路径: 核稿 people, 会签 people (any order), the 签发人."""

    review: Names = []
    cosign: Names = []
    sign: Name | None = None


class DocumentSpec(_Strict):
    """公文要素 as a person writes them (design.md §3.1)."""

    doc_type: DocType
    issuer: Annotated[list[Name], BeforeValidator(_one_or_many), Field(min_length=1, max_length=20)]
    title: _printed(200)
    to: Names = []
    body: Text
    attachments: Annotated[list[Attachment], Field(max_length=50)] = []
    enclosure: Attachment | None = None
    note: _printed(2000) | None = None
    date: IsoDate | None = None
    cc_report: Names = []
    cc: Names = []
    printer: Name | None = None
    print_date: IsoDate | None = None
    copy_no: Annotated[int, Field(strict=True, ge=1, le=999_999)] | None = None
    secret: Secrecy | None = None
    secret_term: _printed(20) | None = None
    urgency: Urgency | None = None
    retention: Retention | None = None
    approval: Approval | None = None
    ref: str | None = None

    @field_validator("ref")
    @classmethod
    def _valid_ref(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ReferenceNumber.parse(value)
            except InputError as error:
                raise ValueError(error.message) from None
        return value

    @property
    def lead_issuer(self) -> str:
        """主办机关: the first issuer of a 联合行文."""
        return self.issuer[0]

    @property
    def reference(self) -> ReferenceNumber | None:
        return ReferenceNumber.parse(self.ref) if self.ref else None

    def to_data(self) -> dict[str, Any]:
        """JSON-ready mapping of the keys that are set, in spec order."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def parse_spec(data: Any) -> tuple[DocumentSpec, list[str]]:
    """Validate raw spec data; return the spec and the warnings (tabs removed)."""
    if not isinstance(data, dict):
        raise InputError("公文内容应为映射（键: 值）", "（根）")
    cleaned, warnings = clean_text(data)
    try:
        return DocumentSpec.model_validate(cleaned), warnings
    except ValidationError as exc:
        raise input_error(exc) from None
