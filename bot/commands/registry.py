"""The command registry: each chat command and card button declared once, with its grammar.

Declare commands of one area in a CommandSet with decorators that return the original
function (so handlers stay plain, unit-testable coroutines):

    commands = CommandSet()

    @commands.command(
        "snooze",
        description="Silence an alert for a while (1h, 4h, 24h, 7d).",
        examples=("snooze 42 4h",),
        args=(Arg("alert_id", "id", ALERT_ID), Arg("duration", "duration", SNOOZE_FOR)),
        admin_only=True,
    )
    async def snooze(ctx: CommandContext, *, alert_id: int, duration: timedelta) -> Reply: ...

    @commands.card_action(Verb.SNOOZE, action="snooze", admin_only=True)
    async def snooze_button(ctx: CommandContext, data: ActionData) -> Reply: ...

A Registry joins the sets (in help order), reads text into an Invocation (command and
typed values, passed to the handler as keyword arguments named after the Args), and
gives the help entries (CommandHelp) the help card and the Teams manifest show: usage is
derived from the grammar, so help cannot drift from what is parsed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot import messages
from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.parsing import ArgError, ArgKind, ParseContext, Word, split_words, suggestions
from bot.views.actions import ActionData
from bot.views.model import CommandHelp

Handler = Callable[..., Awaitable[Reply]]
CardHandler = Callable[[CommandContext, ActionData], Awaitable[Reply]]
H = TypeVar("H", bound=Handler)
C = TypeVar("C", bound=CardHandler)


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument: the handler's keyword `name`, its `label` in usage, and its kind."""

    name: str
    label: str
    kind: ArgKind
    optional: bool = False
    #: Read when given, not shown in usage (a snooze note).
    hidden: bool = False

    @property
    def usage(self) -> str:
        return f"[{self.label}]" if self.optional else f"<{self.label}>"


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str
    examples: tuple[str, ...]
    args: tuple[Arg, ...]
    handler: Handler
    aliases: tuple[str, ...] = ()
    #: Changes something: alert admins only, and every attempt is audited.
    admin_only: bool = False

    @property
    def usage(self) -> str:
        return " ".join([self.name, *(arg.usage for arg in self.args if not arg.hidden)])

    def help(self) -> CommandHelp:
        return CommandHelp(
            name=self.name,
            usage=self.usage,
            description=self.description,
            examples=self.examples,
            admin_only=self.admin_only,
        )

    def parse_args(self, words: Sequence[Word], context: ParseContext) -> dict[str, object]:
        """The handler's keyword arguments; ArgError (for the person) if they do not fit."""
        values: dict[str, object] = {}
        position = 0
        for arg in self.args:
            if position >= len(words):
                if not arg.optional:
                    raise ArgError(messages.missing_argument(arg.label))
                values[arg.name] = None
                continue
            values[arg.name], used = arg.kind.parse(words[position:], context)
            position += used
        if position < len(words):
            raise ArgError(messages.extra_words(" ".join(w.raw for w in words[position:])))
        return values


@dataclass(frozen=True, slots=True)
class CardAction:
    """A card button's verb; `action` names it in refusals and the audit log."""

    verb: str
    action: str
    handler: CardHandler
    admin_only: bool = False


@dataclass
class CommandSet:
    """The commands and card actions of one area, in declaration order."""

    commands: list[Command] = field(default_factory=list)
    card_actions: list[CardAction] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        description: str,
        examples: Sequence[str],
        args: Sequence[Arg] = (),
        aliases: Sequence[str] = (),
        admin_only: bool = False,
    ) -> Callable[[H], H]:
        def register(handler: H) -> H:
            _check_signature(name, handler, args)
            self.commands.append(
                Command(
                    name=name,
                    description=description,
                    examples=tuple(examples),
                    args=tuple(args),
                    handler=handler,
                    aliases=tuple(aliases),
                    admin_only=admin_only,
                )
            )
            return handler

        return register

    def card_action(self, verb: str, *, action: str, admin_only: bool = False) -> Callable[[C], C]:
        def register(handler: C) -> C:
            self.card_actions.append(CardAction(verb, action, handler, admin_only))
            return handler

        return register


def _check_signature(name: str, handler: Handler, args: Sequence[Arg]) -> None:
    """Handlers take the context, then exactly the declared args as keywords."""
    parameters = list(inspect.signature(handler).parameters.values())
    keywords = {p.name for p in parameters[1:] if p.kind is inspect.Parameter.KEYWORD_ONLY}
    if len(parameters) != len(args) + 1 or keywords != {arg.name for arg in args}:
        declared = ", ".join(arg.name for arg in args) or "none"
        raise TypeError(f"command {name!r}: the handler's keyword arguments must be: {declared}")


# --- What a message turned out to be ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Empty:
    """Nothing but the mention."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """Not a command; `suggestion` is a command name it looks like."""

    text: str
    suggestion: str | None


@dataclass(frozen=True, slots=True)
class Invalid:
    """A command whose arguments do not fit; `problem` says why."""

    command: Command
    problem: str


@dataclass(frozen=True, slots=True)
class Invocation:
    command: Command
    values: dict[str, Any]


Parsed = Empty | Unknown | Invalid | Invocation


class Registry:
    """Every command and card action, looked up by name, alias or verb."""

    def __init__(self, *sets: CommandSet) -> None:
        self.commands: tuple[Command, ...] = tuple(c for s in sets for c in s.commands)
        self._names: dict[str, Command] = {}
        for command in self.commands:
            for name in (command.name, *command.aliases):
                if name in self._names:
                    raise ValueError(f"command name {name!r} is declared twice")
                self._names[name] = command
        self._verbs: dict[str, CardAction] = {}
        for action in (a for s in sets for a in s.card_actions):
            if action.verb in self._verbs:
                raise ValueError(f"card action {action.verb!r} is declared twice")
            self._verbs[action.verb] = action

    def help(self) -> tuple[CommandHelp, ...]:
        """The help entries, in declaration order (help card, Teams manifest)."""
        return tuple(command.help() for command in self.commands)

    def find(self, name: str) -> Command | None:
        return self._names.get(name.lower().lstrip("/"))

    def card_action(self, verb: str) -> CardAction | None:
        return self._verbs.get(verb)

    @property
    def verbs(self) -> tuple[str, ...]:
        return tuple(self._verbs)

    def parse(self, text: str, context: ParseContext) -> Parsed:
        words = split_words(text)
        if not words:
            return Empty()
        command = self.find(words[0].key)
        if command is None:
            close = suggestions(words[0].key.lstrip("/"), [c.name for c in self.commands])
            return Unknown(text=text.strip(), suggestion=close[0] if close else None)
        try:
            return Invocation(command, command.parse_args(words[1:], context))
        except ArgError as problem:
            return Invalid(command, str(problem))
