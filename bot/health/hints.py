"""Remediation hints per provisioning error code (config/health/hints/*.yaml), checked once.

Each entry names one or more ResultSignature values and a short hint; `rule` optionally
names the alert rule whose remediation the hint follows. A file with unknown keys, an
empty hint or a code listed twice is refused whole, each problem as `file:line:col: ...`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.alerts.rule_model import SLUG
from bot.alerts.yaml_source import Position, YamlSyntaxError, read_yaml
from bot.errors import ConfigError

SUFFIXES: Final = (".yaml", ".yml")
#: A hint is one or two short sentences (it sits under an error code on a 450 px card).
MAX_HINT: Final = 240


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Hint(_Strict):
    codes: tuple[str, ...] = Field(min_length=1)
    hint: str = Field(min_length=1, max_length=MAX_HINT)
    rule: str | None = Field(default=None, pattern=SLUG.pattern)


class HintFile(_Strict):
    hints: tuple[Hint, ...] = ()


class ErrorHints:
    """Error code -> hint (exact code, else case-insensitive)."""

    def __init__(self, hints: Sequence[Hint] = ()) -> None:
        self.entries = tuple(hints)
        self._by_code = {code.casefold(): h.hint for h in hints for code in h.codes}

    def __call__(self, code: str) -> str:
        return self._by_code.get(code.casefold(), "")

    def __len__(self) -> int:
        return len(self._by_code)


def load_hints(path: Path) -> ErrorHints:
    """The hints in `path` (a file, or a directory of *.yaml; none there: no hints)."""
    placed: list[tuple[Hint, str]] = []
    problems: list[str] = []
    for file in _files(path):
        found, wrong = _read(file)
        placed += found
        problems += wrong
    problems += _repeated(placed)
    if problems:
        raise ConfigError(problems)
    return ErrorHints([hint for hint, _ in placed])


def _files(path: Path) -> Iterator[Path]:
    if path.is_dir():
        yield from sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    elif path.exists():
        yield path


def _read(file: Path) -> tuple[list[tuple[Hint, str]], list[str]]:
    """Each hint with where it is (`file:line:col: hints.i`), or the file's problems."""
    try:
        document = read_yaml(file)
    except (OSError, UnicodeDecodeError) as problem:
        return [], [f"{file}:1:1: cannot read the file: {problem}"]
    except YamlSyntaxError as problem:
        where = problem.position
        return [], [f"{file}:{where.line}:{where.column}: {problem}"]
    try:
        parsed = HintFile.model_validate(document.data or {})
    except ValidationError as invalid:
        return [], [
            f"{_place(file, document.source.key(tuple(e['loc'])), e['loc'])}: {e['msg']}"
            for e in invalid.errors()
        ]
    return [
        (hint, _place(file, document.source.value(("hints", i)), ("hints", i)))
        for i, hint in enumerate(parsed.hints)
    ], []


def _place(file: Path, where: Position, loc: Sequence[str | int]) -> str:
    return f"{file}:{where.line}:{where.column}: {'.'.join(map(str, loc)) or '(file)'}"


def _repeated(placed: Sequence[tuple[Hint, str]]) -> list[str]:
    first: dict[str, str] = {}
    problems = []
    for hint, where in placed:
        for code in hint.codes:
            key = code.casefold()
            if key in first:
                problems.append(f"{where}: error code {code!r} already has a hint ({first[key]})")
            first.setdefault(key, where)
    return problems
