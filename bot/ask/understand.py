"""Text -> a command with its parameters, or choices to offer, or nothing that fits. Pure.

Decides, never guesses: when two commands score within the catalog's margin, when a
name fits two things (`scim`: two jobs), when a required value is missing or a named
job is unknown, the answer is Choices (each a command with complete parameters, shown
as buttons). When no command reaches the minimum score, NotUnderstood carries the
closest commands as suggestions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from bot import messages
from bot.ask.bind import Value, clean_text, compares
from bot.ask.entities import EntityIndex, Named
from bot.ask.followup import is_follow_up
from bot.ask.matcher import Matcher, Reading
from bot.ask.mentions import AliasTable, Mention, MentionKind
from bot.ask.model import Command, ParameterKind, ParameterSpec
from bot.ask.timephrases import TimeWindow, WindowError, parse_window

MAX_CHOICES: Final = 6
SUGGESTIONS: Final = 3
#: Longer text is no question (Teams allows 28,000 characters): answered at once, unread.
MAX_QUESTION: Final = 500
#: How much of a question the "not understood" answer repeats.
ECHO: Final = 80
#: Where each parameter kind takes its value from, in order of preference.
SOURCES: Final[Mapping[ParameterKind, tuple[MentionKind, ...]]] = {
    "job": ("job",),
    "application": ("job",),
    "user": ("upn", "guid", "user", "quoted"),
    "group": ("group", "guid", "quoted"),
    "workflow": ("workflow", "quoted"),
    "extension": ("extension", "quoted"),
    "error_code": ("error_code",),
}


@dataclass(frozen=True, slots=True)
class Choice:
    """One button: run `command` with `parameters` (the window as its spec)."""

    label: str
    command: str
    parameters: Mapping[str, Value]


@dataclass(frozen=True, slots=True)
class Resolved:
    command: Command
    values: Mapping[str, Value]
    window: TimeWindow
    #: How a value reads for people where it differs (a JobId -> its app's name).
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Choices:
    prompt: str
    choices: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class NotUnderstood:
    text: str
    suggestions: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class HelpWanted:
    commands: tuple[Command, ...]


Understanding = Resolved | Choices | NotUnderstood | HelpWanted


def understand(
    text: str,
    matcher: Matcher,
    aliases: AliasTable,
    index: EntityIndex,
    *,
    now: datetime,
    previous: Resolved | None = None,
) -> Understanding:
    """What `text` asks, against the catalog and the workspace's names, as of `now`."""
    if len(text) > MAX_QUESTION:
        return NotUnderstood(echo(text), ())
    reading = matcher.read(text, aliases, now=now)
    if previous is not None and not _refused_outright(reading) and is_follow_up(text, reading):
        again = _again(previous, reading, now=now)
        if again is not None:
            return again
    ranked = matcher.rank(reading)
    limits = matcher.catalog.limits
    limit = limits.max_window
    best = ranked[0] if ranked else None
    if best is None or best.value < limits.min_score or _refused(reading, matcher, best.command):
        if not reading.concepts and not reading.scan.mentions and not text.strip():
            return HelpWanted(matcher.catalog.commands)
        close = [s.command for s in ranked[:SUGGESTIONS] if s.value > 0]
        suggestions = _plain_choices(close, reading, index, now=now, limit=limit)
        return NotUnderstood(echo(text), suggestions)
    if best.command.kind == "help":
        return HelpWanted(matcher.catalog.commands)
    rivals = [s for s in ranked[1:MAX_CHOICES] if s.value >= best.value - limits.margin]
    if rivals:
        commands = [best.command, *(s.command for s in rivals if s.command.kind != "help")]
        choices = _plain_choices(commands, reading, index, now=now, limit=limit)
        return Choices(messages.ask_which_command(), choices)
    return resolve(best.command, reading, index, now=now, limit=limit)


def _again(previous: Resolved, reading: Reading, *, now: datetime) -> Resolved | None:
    """The previous question with what the follow-up changes; None if it changes nothing
    this question can take (`and for Payroll Approvers?` after a provisioning question)."""
    command = previous.command
    values, labels = dict(previous.values), dict(previous.labels)
    changed = reading.window is not None
    for name, spec in command.parameters.items():
        if spec.kind == "count" and reading.count is not None:
            values[name], changed = _clamp(reading.count, spec), True
        elif spec.kind in SOURCES and (options := _options(spec.kind, command, reading)):
            (values[name], labels[name]), changed = options[0], True
    if not changed:
        return None
    window = anchored(command, reading.window or previous.window, now)
    return Resolved(command, values, window, labels)


def _refused_outright(reading: Reading) -> bool:
    return reading.imperative or reading.elsewhere


def _refused(reading: Reading, matcher: Matcher, command: Command) -> bool:
    """Precision over recall: a request to change something, another product, nothing the
    chosen command explains, or more words no command knows than words it explains."""
    if _refused_outright(reading):
        return True
    if command.kind == "help":
        return False
    profile = matcher.profile(command)
    known = profile.concepts | profile.neutral
    explained = sum(concept in known for concept in reading.concepts)
    return explained == 0 or len(reading.unknown) > explained


def echo(text: str) -> str:
    """The question as repeated to its author: one line, at most ECHO characters."""
    line = " ".join(text.split())
    return line if len(line) <= ECHO else f"{line[: ECHO - 1].rstrip()}…"


def resolve(
    command: Command, reading: Reading, index: EntityIndex, *, now: datetime, limit: timedelta
) -> Understanding:
    """`command` with its parameters from `reading`; Choices when one needs choosing."""
    filled = _fill(command, reading, index, now=now, limit=limit)
    return filled.choices or Resolved(command, filled.values, filled.window, filled.labels)


def from_choice(
    command: Command | None, parameters: Mapping[str, object], *, now: datetime, limit: timedelta
) -> Understanding | None:
    """A pressed button's command and parameters, checked again; None if they do not fit."""
    if command is None or command.kind != "query" or not set(parameters) <= set(command.parameters):
        return None
    values: dict[str, Value] = {}
    window = None
    for name, spec in command.parameters.items():
        given = parameters.get(name)
        if spec.kind == "window":
            window = _choice_window(given, command, now=now, limit=limit)
        elif spec.kind == "count":
            values[name] = _clamp(given if isinstance(given, int) else spec.default, spec)
        elif spec.kind != "bin":
            values[name] = clean_text(given) if isinstance(given, str) else ""
            if spec.required and not values[name]:
                return None
    return Resolved(command, values, anchored(command, window, now)) if window is not None else None


def anchored(command: Command, window: TimeWindow, now: datetime) -> TimeWindow:
    """A comparison needs fixed ends: `last 7d` becomes [now - 7d, now)."""
    span = window.timespan
    if not compares(command) or not isinstance(span, timedelta):
        return window
    return TimeWindow(window.spec, (now - span, now), window.label, window.capped)


def command_window(command: Command, *, now: datetime, limit: timedelta) -> TimeWindow:
    """The command's default time range."""
    spec = command.parameters[command.window_parameter()]
    return parse_window(str(spec.default), now=now, limit=limit)


def _choice_window(
    given: object, command: Command, *, now: datetime, limit: timedelta
) -> TimeWindow | None:
    if given is None:
        return command_window(command, now=now, limit=limit)
    try:
        return parse_window(str(given), now=now, limit=limit) if isinstance(given, str) else None
    except WindowError:
        return None


@dataclass(frozen=True, slots=True)
class _Filled:
    values: dict[str, Value]
    window: TimeWindow
    labels: dict[str, str]
    #: Set when a parameter needs the person to choose.
    choices: Choices | None = None


def _fill(
    command: Command, reading: Reading, index: EntityIndex, *, now: datetime, limit: timedelta
) -> _Filled:
    window = anchored(command, reading.window or command_window(command, now=now, limit=limit), now)
    values: dict[str, Value] = {}
    labels: dict[str, str] = {}
    open_choice: tuple[str, ParameterSpec, list[tuple[Value, str]], str] | None = None
    for name, spec in command.parameters.items():
        if spec.kind in ("window", "bin"):
            continue
        if spec.kind == "count":
            values[name] = _clamp(
                reading.count if reading.count is not None else spec.default, spec
            )
            continue
        if spec.kind in ("period_start",):
            continue
        if spec.kind == "action":
            values[name] = reading.actions[0] if len(reading.actions) == 1 else ""
            continue
        options = _options(spec.kind, command, reading)
        values[name], labels[name] = options[0] if options else ("", "")
        if open_choice is None:
            open_choice = _needs_choice(name, spec, options, reading, index)
    if open_choice is None:
        return _Filled(values, window, labels)
    name, spec, options, prompt = open_choice
    base = {**values, command.window_parameter(): window.spec}
    choices = tuple(
        Choice(label=label, command=command.name, parameters={**base, name: value})
        for value, label in options[:MAX_CHOICES]
    )
    return _Filled(values, window, labels, Choices(prompt, choices))


def _needs_choice(
    name: str,
    spec: ParameterSpec,
    options: list[tuple[Value, str]],
    reading: Reading,
    index: EntityIndex,
) -> tuple[str, ParameterSpec, list[tuple[Value, str]], str] | None:
    if len(options) > 1:
        return name, spec, options, messages.ask_which_value(spec.description)
    unknown = reading.scan.unknown_name
    if not options and unknown and spec.kind in ("job", "application"):
        return (
            name,
            spec,
            _index_options(spec.kind, index),
            messages.ask_unknown_name(spec.description, unknown),
        )
    if not options and spec.required:
        listed = _index_options(spec.kind, index)
        return name, spec, listed, messages.ask_needs_value(spec.description, f"<{name}>")
    return None


def _options(kind: ParameterKind, command: Command, reading: Reading) -> list[tuple[Value, str]]:
    """(value, label) for each thing the question names that this parameter can hold."""
    taken = {spec.kind for spec in command.parameters.values()}
    found: dict[Value, str] = {}
    for source in SOURCES.get(kind, ()):
        if source == "guid" and len(taken & {"user", "group"}) > 1:
            continue  # an object id could be either: leave it to a quoted or named value
        for mention in reading.scan.of(source):
            for value, label in _values(kind, mention):
                found.setdefault(value, label)
        if found:
            break
    return list(found.items())


def _values(kind: ParameterKind, mention: Mention) -> list[tuple[Value, str]]:
    if mention.kind in ("upn", "guid"):
        return [(mention.text, mention.text)]
    named = [n for n in mention.candidates if n.kind == _ENTITY_OF[kind]]
    if mention.kind == "quoted" and not mention.candidates:
        return [(clean_text(mention.text), mention.text)]
    return [(_named_value(kind, n), n.name) for n in named]


_ENTITY_OF: Final[Mapping[ParameterKind, str]] = {
    "job": "job", "application": "job", "group": "group", "workflow": "workflow",
    "extension": "extension", "error_code": "error_code", "user": "user",
}  # fmt: skip


def _named_value(kind: ParameterKind, named: Named) -> Value:
    """A job is bound by JobId, an application by its name, a group by its object id."""
    return named.name if kind in ("application", "workflow", "extension") else named.id


def _index_options(kind: ParameterKind, index: EntityIndex) -> list[tuple[Value, str]]:
    if kind not in ("job", "application", "workflow", "extension", "error_code"):
        return []
    entity = "job" if kind == "application" else kind
    return [(_named_value(kind, n), n.name) for n in index.of(entity)]


def _plain_choices(
    commands: list[Command],
    reading: Reading,
    index: EntityIndex,
    *,
    now: datetime,
    limit: timedelta,
) -> tuple[Choice, ...]:
    """One button per command, with what the question said filled in."""
    choices = []
    for command in commands[:MAX_CHOICES]:
        if command.kind == "help":
            choices.append(Choice(command.title, command.name, {}))
            continue
        filled = _fill(command, reading, index, now=now, limit=limit)
        parameters = {**filled.values, command.window_parameter(): filled.window.spec}
        choices.append(Choice(_label(command, filled.labels), command.name, parameters))
    return tuple(choices)


def _label(command: Command, labels: Mapping[str, str]) -> str:
    named = [label for label in labels.values() if label]
    return " · ".join([command.title, *named[:1]])


def _clamp(value: object, spec: ParameterSpec) -> int:
    number = value if isinstance(value, int) else int(str(spec.default))
    return max(spec.minimum, min(spec.maximum, number))
