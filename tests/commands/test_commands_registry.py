"""The registry is the one list of commands: help, the manifest and parsing all follow it."""

from __future__ import annotations

import pytest

from bot import command_help
from bot.commands.base import Reply
from bot.commands.context import CommandContext
from bot.commands.handlers import REGISTRY
from bot.commands.handlers.common import ALERT_ID, NOTE
from bot.commands.registry import Arg, CommandSet, Invocation, Registry
from bot.manifest import MAX_COMMANDS, command_lists
from bot.views.actions import Verb
from tests.support.chat import parse_context

CONTEXT = parse_context()


def test_command_help_is_generated_from_the_registry() -> None:
    assert REGISTRY.help() == command_help.COMMANDS
    assert [c.name for c in REGISTRY.help()] == [
        "help",
        "alerts",
        "ack",
        "snooze",
        "unsnooze",
        "resolve",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "rules",
        "rule",
        "run",
        "health",
        "digest",
    ]


def test_the_manifest_lists_the_first_commands_within_teams_limit() -> None:
    # Teams shows at most 12 per list; the rest (health, digest) are typed, and in help.
    (personal, *_) = command_lists(REGISTRY.help())
    listed = [c.name for c in REGISTRY.commands][:MAX_COMMANDS]
    assert [entry["title"] for entry in personal["commands"]] == listed


def test_admin_only_commands_are_exactly_those_that_change_something() -> None:
    admin = {c.name for c in REGISTRY.commands if c.admin_only}
    assert admin == {
        "subscribe", "unsubscribe", "ack", "snooze", "unsnooze", "resolve", "run", "digest",
    }  # fmt: skip


def test_every_example_parses_as_its_own_command() -> None:
    for command in REGISTRY.commands:
        for example in command.examples:
            parsed = REGISTRY.parse(example, CONTEXT)
            assert isinstance(parsed, Invocation), (example, parsed)
            assert parsed.command is command


def test_every_card_button_verb_has_an_action() -> None:
    assert set(REGISTRY.verbs) == {verb.value for verb in Verb}
    assert all(REGISTRY.card_action(verb.value).admin_only for verb in Verb)  # type: ignore[union-attr]


def test_usage_follows_the_grammar_and_hidden_args_are_not_shown() -> None:
    commands = CommandSet()

    @commands.command(
        "poke",
        description="Poke an alert.",
        examples=("poke 1",),
        args=(
            Arg("alert_id", "id", ALERT_ID),
            Arg("note", "why", NOTE, optional=True),
        ),
    )
    async def poke(ctx: CommandContext, *, alert_id: int, note: str | None) -> Reply:
        return Reply(text=f"poked {alert_id}: {note}")

    @commands.command(
        "nudge",
        description="Nudge.",
        examples=(),
        args=(Arg("note", "why", NOTE, optional=True, hidden=True),),
    )
    async def nudge(ctx: CommandContext, *, note: str | None) -> Reply:
        return Reply()

    registry = Registry(commands)
    assert [c.usage for c in registry.help()] == ["poke <id> [why]", "nudge"]
    assert registry.find("POKE") is registry.commands[0]


async def test_decorators_return_the_original_function() -> None:
    commands = CommandSet()

    async def original(ctx: CommandContext, *, alert_id: int) -> Reply:
        return Reply(text=str(alert_id))

    registered = commands.command(
        "ping", description="Ping.", examples=(), args=(Arg("alert_id", "id", ALERT_ID),)
    )(original)
    assert registered is original
    assert commands.commands[0].handler is original
    assert (await registered(None, alert_id=3)).text == "3"  # type: ignore[arg-type]


def test_a_handler_must_take_exactly_the_declared_arguments() -> None:
    commands = CommandSet()
    with pytest.raises(TypeError, match="must be: alert_id"):

        @commands.command(
            "ping", description="Ping.", examples=(), args=(Arg("alert_id", "id", ALERT_ID),)
        )
        async def ping(ctx: CommandContext, *, alert: int) -> Reply:
            return Reply()


def test_a_name_declared_twice_is_refused() -> None:
    first, second = CommandSet(), CommandSet()

    @first.command("ping", description="Ping.", examples=())
    async def ping(ctx: CommandContext) -> Reply:
        return Reply()

    @second.command("pong", description="Pong.", examples=(), aliases=("ping",))
    async def pong(ctx: CommandContext) -> Reply:
        return Reply()

    with pytest.raises(ValueError, match="'ping' is declared twice"):
        Registry(first, second)
