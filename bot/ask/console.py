"""`alertbot ask`: one question, answered on the terminal as a table or as JSON.

JSON is `{"command", "parameters", "kql", "timespan", "summary", "columns", "rows",
"total"}`; a question that needs a choice gives `{"prompt", "choices": [...]}` instead of
rows, and one that fits nothing `{"error", "suggestions": [...]}`. Workspace errors are
raised to the caller, which maps them to exit codes as `alertbot query` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot import messages
from bot.ask.answer import Answer, answer_document, choices_document, shown_columns
from bot.ask.service import Asker
from bot.ask.understand import Choice, Choices, HelpWanted, NotUnderstood
from bot.output import to_table

Format = Literal["table", "json"]


@dataclass(frozen=True, slots=True)
class Printed:
    """What to print, and whether the question was understood."""

    text: str
    understood: bool


async def ask_once(asker: Asker, question: str, *, output_format: Format) -> Printed:
    understanding = await asker.understand(question)
    if isinstance(understanding, HelpWanted):
        return Printed(_help(asker, output_format), understood=True)
    if isinstance(understanding, Choices):
        return Printed(_choices(understanding.prompt, understanding.choices, output_format), True)
    if isinstance(understanding, NotUnderstood):
        close = bool(understanding.suggestions)
        prompt = messages.ask_not_understood(understanding.text, close=close)
        if output_format == "json":
            document = choices_document(prompt, understanding.suggestions)
            text = _json({"error": prompt, "suggestions": document["choices"]})
        else:
            text = _choice_lines(prompt, understanding.suggestions)
        return Printed(text, understood=False)
    answer = await asker.run(understanding)
    if output_format == "json":
        return Printed(_json(answer_document(answer)), understood=True)
    return Printed(_answer_table(answer), understood=True)


def _answer_table(answer: Answer) -> str:
    command = answer.bound.command
    columns = command.answer.columns if command.answer else ()
    lines = [f"{command.title}: {answer.summary}"]
    if answer.result.rows:
        lines.append(to_table(shown_columns(answer.result, columns)))
    if answer.total > len(answer.result.rows):
        lines.append(messages.ask_total(len(answer.result.rows), answer.total))
    lines += ["", "KQL (timespan " + _timespan(answer) + "):", answer.bound.kql]
    return "\n".join(lines)


def _timespan(answer: Answer) -> str:
    document = answer_document(answer)
    return str(document["timespan"])


def _choices(prompt: str, choices: Sequence[Choice], output_format: Format) -> str:
    if output_format == "json":
        return _json(choices_document(prompt, choices))
    return _choice_lines(prompt, choices)


def _choice_lines(prompt: str, choices: Sequence[Choice]) -> str:
    lines = [prompt]
    for number, choice in enumerate(choices, start=1):
        values = ", ".join(f"{k}={v}" for k, v in choice.parameters.items() if v not in ("", None))
        lines.append(f"  {number}. {choice.label}  [{choice.command}: {values}]")
    return "\n".join(lines)


def _help(asker: Asker, output_format: Format) -> str:
    entries = [
        {"command": c.name, "description": c.description, "examples": list(c.examples)}
        for c in asker.catalog.queries
    ]
    if output_format == "json":
        return _json({"help": entries})
    lines = [f"  {e['examples'][0]:<60} {e['description']}" for e in entries]
    return "\n".join([messages.ask_help_intro(), *lines])


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False)
