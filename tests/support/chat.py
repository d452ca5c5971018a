"""A chat test backend: tests read like a transcript of a conversation with the bot.

    chat = await ChatHarness.create(tmp_path, admin=True)
    reply = await chat.say("run provisioning-failure-spike")
    reply = await chat.press(reply.card, "alert.ack")
    assert reply.view.status.state == "acknowledged"

Behind it is the real thing: the CommandRouter over a SQLite store in a temporary file,
the alert pipeline on the demo workspace pinned at DEMO_NOW, the rule catalog in
config/rules, and the card templates (every reply's view is rendered, so a template that
does not bind fails the test). `press` reads the button's data from the rendered card,
as Teams would, with the card's input defaults (the snooze duration) filled in.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb_kql

from bot.alerts.pipeline import AlertPipeline
from bot.alerts.reload import RuleBook
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.ask.catalog import Catalog, load_catalog
from bot.channels.teams.cards import Card, CardRenderer
from bot.commands.access import AccessPolicy, GroupMembership
from bot.commands.base import Caller, Principal, Reply
from bot.commands.parsing import ParseContext
from bot.commands.router import CommandRouter, Fallback, ReadOnlyAction
from bot.health.hints import ErrorHints, load_hints
from bot.health.open_alerts import OpenAlertSource
from bot.health.service import HealthService
from bot.models import STANDARD_CATEGORIES, AuditEntry, ChannelKind, ConversationRef
from bot.store.sql import SqlStore, open_store
from bot.views import CardView
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace
from tests.cards.conftest import nodes, texts
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url

HEALTH_CATALOG = Path(__file__).resolve().parents[2] / "config" / "health"

TENANT = "6417b88f-b93c-4137-8a73-e7e3daadd60a"
OTHER_TENANT = "1937262c-4846-4096-bc30-aee3e77d5363"
ADMIN_ID = "0a1b2c3d-0000-4000-8000-00000000a1e5"
READER_ID = "0a1b2c3d-0000-4000-8000-0000000f1ead"
CHANNEL = "19:ops@thread.tacv2"


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    tenant_id: str | None = TENANT


ADMIN = Person(ADMIN_ID, "Alex Admin")
READER = Person(READER_ID, "Riley Reader")


@functools.cache
def demo_workspace() -> LocalWorkspace:
    """The demo logs at DEMO_NOW, generated once per test process (read-only)."""
    con = duckdb_kql.connect()
    load_demo(con, DemoSpec(now=DEMO_NOW))
    return LocalWorkspace(con, clock=lambda: DEMO_NOW)


@functools.cache
def catalog() -> tuple[Rule, ...]:
    return tuple(load_rules([CATALOG]))


@functools.cache
def health_catalog() -> Catalog:
    return load_catalog([HEALTH_CATALOG])


@functools.cache
def error_hints() -> ErrorHints:
    return load_hints(HEALTH_CATALOG / "hints")


def parse_context() -> ParseContext:
    """How the router reads names with the catalog loaded."""
    rules = catalog()
    categories = dict.fromkeys([*STANDARD_CATEGORIES, *(rule.category for rule in rules)])
    return ParseContext(rule_ids=tuple(rule.id for rule in rules), categories=tuple(categories))


@functools.cache
def renderer() -> CardRenderer:
    return CardRenderer()


class Clock:
    """The bot's "now", moved by the test."""

    def __init__(self, now: datetime = DEMO_NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass(frozen=True)
class ChatReply:
    """What the bot answered: its text, its card view, and that view rendered."""

    text: str | None
    view: Any
    card: Card | None

    @property
    def card_text(self) -> str:
        """Every visible text of the card, one piece per line."""
        return texts(self.card) if self.card is not None else ""

    @property
    def said(self) -> str:
        """The text and the card's text together (for `in` checks)."""
        return f"{self.text or ''}\n{self.card_text}"

    @property
    def verbs(self) -> list[str]:
        """The verbs of the card's Action.Execute buttons (in ShowCards too)."""
        return [node["verb"] for node in nodes(self.card) if node.get("type") == "Action.Execute"]


@dataclass
class ChatHarness:
    """One person in one conversation, talking to the bot."""

    router: CommandRouter
    store: SqlStore
    pipeline: AlertPipeline
    rules: RuleBook
    clock: Clock
    caller: Caller
    _owned: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    async def create(
        cls,
        tmp_path: Path,
        *,
        admin: bool = True,
        person: Person | None = None,
        conversation_id: str = CHANNEL,
        admin_group_ids: tuple[str, ...] = (),
        membership: GroupMembership | None = None,
        allowed_tenants: tuple[str, ...] | None = (TENANT,),
        fallback: Fallback | None = None,
        read_only_actions: Mapping[str, ReadOnlyAction] | None = None,
    ) -> ChatHarness:
        store = await open_store(sqlite_url(tmp_path / "chat.db"))
        clock = Clock()
        pipeline = AlertPipeline(store=store, workspace=demo_workspace(), query_timeout=60)
        rules = RuleBook(catalog(), loaded_at=DEMO_NOW)
        access = AccessPolicy(
            admin_user_ids=[ADMIN_ID],
            admin_group_ids=admin_group_ids,
            allowed_tenants=allowed_tenants,
            membership=membership,
        )
        router = CommandRouter(
            store=store,
            pipeline=pipeline,
            rules=rules,
            access=access,
            clock=clock,
            fallback=fallback,
            read_only_actions=read_only_actions,
            health=HealthService(
                workspace=demo_workspace(),
                catalog=health_catalog(),
                clock=clock,
                alerts=OpenAlertSource(store=store, rule=rules.get),
                hints=error_hints(),
            ),
        )
        who = person or (ADMIN if admin else READER)
        harness = cls(router, store, pipeline, rules, clock, caller_for(who, conversation_id))
        harness._owned.append(store.close)
        await harness.joined(conversation_id)
        return harness

    def as_person(self, person: Person, *, conversation_id: str | None = None) -> ChatHarness:
        """Someone else, talking to the same bot (same store, rules and clock)."""
        caller = caller_for(person, conversation_id or self.caller.conversation_id)
        return replace(self, caller=caller, _owned=[])

    def in_conversation(self, conversation_id: str) -> ChatHarness:
        """The same person, talking to the bot in another conversation."""
        caller = replace(self.caller, conversation_id=conversation_id)
        return replace(self, caller=caller, _owned=[])

    async def joined(self, conversation_id: str) -> None:
        """The bot was added to a conversation: the channel saved its reference."""
        await self.store.upsert_conversation(
            ConversationRef(
                conversation_id=conversation_id,
                channel=ChannelKind.TEAMS,
                kind="channel",
                reference={"conversation": {"id": conversation_id}},
                updated_at=self.clock(),
            )
        )

    async def say(self, text: str) -> ChatReply:
        return _shown(await self.router.handle_text(self.caller, text))

    async def press(self, card: Card | ChatReply | None, verb: str, **inputs: str) -> ChatReply:
        """Press the card's button with `verb`; `inputs` override the card's input values."""
        if isinstance(card, ChatReply):
            card = card.card
        assert card is not None, "there is no card to press a button on"
        action = next(
            (n for n in nodes(card) if n.get("type") == "Action.Execute" and n["verb"] == verb),
            None,
        )
        shown = sorted({n["verb"] for n in nodes(card) if n.get("type") == "Action.Execute"})
        assert action is not None, f"no {verb!r} button on the card; it has {shown}"
        data = {**input_defaults(card), **action.get("data", {}), **inputs}
        return _shown(await self.router.handle_card_action(self.caller, verb, data))

    async def audit(self) -> list[AuditEntry]:
        return await self.store.list_audit(conversation_id=self.caller.conversation_id)

    async def close(self) -> None:
        for close in reversed(self._owned):
            await close()

    async def __aenter__(self) -> ChatHarness:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()


def caller_for(person: Person, conversation_id: str = CHANNEL) -> Caller:
    principal = Principal(
        channel=ChannelKind.TEAMS,
        user_id=person.user_id,
        org_id=person.tenant_id,
        name=person.name,
        entra_object_id=person.user_id,
    )
    return Caller(principal=principal, conversation_id=conversation_id, conversation_kind="channel")


def _shown(reply: Reply) -> ChatReply:
    view: CardView | None = reply.view
    card = renderer().render(view) if view is not None else None
    return ChatReply(text=reply.text, view=view, card=card)


def input_defaults(card: Mapping[str, Any]) -> dict[str, str]:
    """The values the card's inputs start with: what the host sends if no one changes them."""
    return {
        node["id"]: str(node["value"])
        for node in nodes(card)
        if str(node.get("type", "")).startswith("Input.") and "value" in node
    }
