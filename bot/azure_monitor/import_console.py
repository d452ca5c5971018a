"""What `alertbot rules import` does below argument parsing: read, convert, write, validate.

Prints the rule file (or writes it to `out`), then every note to `err`, then the result
of `alertbot rules validate` on what it wrote, so an admin sees at once whether the
imported rules run here.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, TextIO

from bot.alerts.console import Outcome
from bot.alerts.kql_checks import OutputProbe
from bot.alerts.report import render_check
from bot.alerts.rules import check_rules
from bot.azure_monitor.arm_import import SEMANTIC_NOTES, ArmImportError, import_rules
from bot.azure_monitor.rule_file import render_rule_file


def import_rule_file(
    source: Path,
    *,
    parameters: Path | None,
    out: Path | None,
    probe: OutputProbe | None,
    stdout: TextIO,
    stderr: TextIO,
) -> Outcome:
    """Convert the ARM JSON in `source`; Outcome.USAGE for unreadable input."""
    try:
        document = _read_json(source)
        values = _read_parameters(parameters) if parameters else {}
        result = import_rules(document, parameters=values)
    except ArmImportError as error:
        print(f"alertbot: {error}", file=stderr)
        return Outcome.USAGE
    text = render_rule_file(result, source=source.name)
    for note in result.refused:
        print(f"not imported: {note}", file=stderr)
    for rule in result.rules:
        for note in rule.notes:
            print(f"note: {rule.document['id']}: {note.where}: {note.message}", file=stderr)
    for line in SEMANTIC_NOTES:
        print(f"note: {line}", file=stderr)
    if not result.rules:
        print("alertbot: no rule could be imported", file=stderr)
        return Outcome.INVALID
    return _write_and_check(text, out=out, probe=probe, stdout=stdout, stderr=stderr)


def _write_and_check(
    text: str, *, out: Path | None, probe: OutputProbe | None, stdout: TextIO, stderr: TextIO
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="alertbot-import-") as scratch:
        target = out or Path(scratch) / "imported.yaml"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"alertbot: cannot write {target}: {error.strerror}", file=stderr)
            return Outcome.USAGE
        report = check_rules([target], probe=probe)
    if out is None:
        stdout.write(text)
    else:
        print(f"wrote {len(report.rules)} rule(s) to {out}", file=stderr)
    print(render_check(report), file=stderr)
    return Outcome.INVALID if report.errors else Outcome.OK


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ArmImportError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise ArmImportError(f"{path} is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ArmImportError(
            f"{path}:{error.lineno}:{error.colno}: not JSON: {error.msg}"
        ) from None
    except RecursionError:
        raise ArmImportError(f"{path}: JSON nested too deeply") from None


def _read_parameters(path: Path) -> dict[str, Any]:
    """An ARM parameters file (`{"parameters": {"x": {"value": ...}}}`) or a plain object."""
    document = _read_json(path)
    if isinstance(document, dict) and isinstance(document.get("parameters"), dict):
        return dict(document["parameters"])
    if isinstance(document, dict):
        return document
    raise ArmImportError(f"{path}: a parameters file is a JSON object")
