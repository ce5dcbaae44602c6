"""Fill a GB/T 9704 template with a print layout: ``render_docx(layout) -> bytes``.

User text is data, never template: docxtpl runs Jinja in a sandboxed environment
with autoescape and StrictUndefined, and every value passes through
``wordml.text`` on its way out (control characters removed, ``& < > " '`` escaped,
braces written as character references), so ``{{ x }}`` or ``{% %}`` in a title
comes out literally. A value the template needs and the layout lacks raises
``TemplateFieldMissing`` naming it. Templates are read once and compiled once
per process.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
from typing import Any

from docx.image.exceptions import UnrecognizedImageError
from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from doc_templates.catalogue import template_path
from doc_templates.errors import PrintError, TemplateBroken, TemplateFieldMissing
from doc_templates.fragments import closing_block, masthead_block, table_block
from doc_templates.wordml import text
from models.layout import Kind, PrintLayout


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}``: strings become escaped, brace-safe WordprocessingML text."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return Markup(text(value))
    return value


class _Environment(SandboxedEnvironment):
    """The sandbox, remembering compiled templates (a template's XML is the same every time)."""

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one environment per process
    def from_string(self, source, globals=None, template_class=None):  # type: ignore[override]
        return super().from_string(source, globals, template_class)


ENVIRONMENT = _Environment(autoescape=True, undefined=StrictUndefined, finalize=_finalize)

_UNDEFINED = re.compile(r"'([^']+)' is undefined|has no attribute '([^']+)'")


@functools.cache
def template_bytes(kind: Kind) -> bytes:
    """The template file of ``kind``, read once."""
    return template_path(kind).read_bytes()


def context_for(layout: PrintLayout, template: DocxTemplate) -> dict[str, Any]:
    """The template context: the layout's fields and the fragments drawn in code."""
    context = {field.name: getattr(layout, field.name) for field in dataclasses.fields(layout)}
    document_part = template.get_docx().part

    def add_image(path: str) -> tuple[str, int, int]:
        try:
            relationship, image = document_part.get_or_add_image(path)
        except (OSError, UnrecognizedImageError) as error:
            raise PrintError(f"印章图片「{path}」无法读取：{error}", "seal") from None
        return relationship, image.px_width, image.px_height

    context["masthead_block"] = Markup(masthead_block(layout))
    context["closing_block"] = Markup(closing_block(layout, add_image))
    context["table_block"] = lambda table: Markup(table_block(table))
    return context


def render_docx(layout: PrintLayout) -> bytes:
    """The filled .docx of ``layout`` as bytes."""
    template = DocxTemplate(io.BytesIO(template_bytes(layout.kind)))
    return fill(template, context_for(layout, template), layout.kind.value)


def fill(template: DocxTemplate, context: dict[str, Any], name: str) -> bytes:
    """Render ``template`` (called ``name`` in errors) with ``context`` in the sandbox."""
    try:
        template.render(context, jinja_env=ENVIRONMENT)
    except UndefinedError as error:
        match = _UNDEFINED.search(str(error))
        field = next(group for group in match.groups() if group) if match else str(error)
        raise TemplateFieldMissing(f"模板「{name}」使用了未提供的字段「{field}」", field) from None
    except TemplateError as error:
        raise TemplateBroken(f"模板「{name}」无法解析：{error}", name) from None
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()
