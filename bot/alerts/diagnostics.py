"""Problems found in rule files, and the one line each is reported as.

A check inside one rule returns Findings, positioned by the rule field they concern
(and a line/column inside it for the query); rules.py turns them into Diagnostics
with the file's own line and column: `file:line:col: rule-id: message`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.alerts.yaml_source import Path

Level = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem with one field of a rule (`path` is relative to the rule)."""

    path: Path
    message: str
    level: Level = "error"
    #: Position inside a text field (1-based), e.g. where in the query.
    line: int | None = None
    column: int | None = None
    #: Point at the key rather than the value (unknown or duplicate keys).
    at_key: bool = False


def error(path: Path, message: str, **where: int | None) -> Finding:
    return Finding(path, message, "error", where.get("line"), where.get("column"))


def warning(path: Path, message: str, **where: int | None) -> Finding:
    return Finding(path, message, "warning", where.get("line"), where.get("column"))


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One reported problem, located in a file."""

    file: str
    line: int
    column: int
    rule_id: str
    message: str
    level: Level = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.level == "warning" else ""
        return f"{self.file}:{self.line}:{self.column}: {self.rule_id}: {prefix}{self.message}"

    @property
    def is_error(self) -> bool:
        return self.level == "error"
