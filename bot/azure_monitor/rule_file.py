"""Write imported rules as a rule file: YAML in the format of config/rules/README.md.

Each rule is preceded by comments saying what of its Azure original was not carried
over; the file starts with the semantic differences every imported rule shares.
"""

from __future__ import annotations

import textwrap
from typing import Any

import yaml

from bot.azure_monitor.arm_import import SEMANTIC_NOTES, ImportResult, Note


def render_rule_file(result: ImportResult, *, source: str) -> str:
    """The rule file's text for `result` (imported from `source`)."""
    lines = [f"# Imported from {source} by `alertbot rules import`.", "#"]
    lines += [line for note in SEMANTIC_NOTES for line in _comment(note)]
    lines += [line for note in result.refused for line in _comment(f"Not imported: {note}")]
    lines += ["", "rules:"]
    for rule in result.rules:
        lines += _comment(f"From the Azure Monitor rule {rule.origin}", indent="  ")
        lines += _rule_block(rule.document, rule.notes)
    return "\n".join(lines) + "\n"


class _Dumper(yaml.SafeDumper):
    """Queries as literal blocks (`|`), as the rules README asks, so KQL errors point at lines."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def _rule_block(rule: dict[str, Any], notes: tuple[Note, ...]) -> list[str]:
    body = yaml.dump(
        [rule],
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    block = [line for n in notes for line in _comment(f"{n.where}: {n.message}", indent="  ")]
    block += ["  " + line if line else line for line in body.rstrip("\n").split("\n")]
    return [*block, ""]


def _comment(text: str, *, indent: str = "") -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(text, 96 - len(indent))]
