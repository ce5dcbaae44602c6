"""What a command prints: human text, or one JSON object with ``--json``.

Errors print ``{"error": …, "field": …}`` (JSON) or ``错误：field：reason`` on
stderr, and the process exits with the error's code (design.md §3.3).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def done(self, data: dict[str, Any], text: str) -> None:
        """Print a command's result."""
        if self.as_json:
            click.echo(json.dumps(data, ensure_ascii=False, default=str))
        else:
            click.echo(text)

    def note(self, text: str) -> None:
        """A progress or warning line for people; stderr in JSON mode."""
        click.echo(text, err=self.as_json)

    def error(self, message: str, field: str | None) -> None:
        if self.as_json:
            click.echo(json.dumps({"error": message, "field": field}, ensure_ascii=False))
        else:
            where = f"{field}：" if field else ""
            click.echo(f"错误：{where}{message}", err=True)


def wants_json(argv: list[str] | None = None) -> bool:
    return "--json" in (sys.argv[1:] if argv is None else argv)
