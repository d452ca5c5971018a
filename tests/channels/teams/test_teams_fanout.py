"""One alert to many Teams conversations through the outbox and the real Teams notifier,
against a fake Bot Connector that keeps Teams' limits (limited_connector.py): the card is
rendered once and the deliveries started together read the store together; every
conversation gets its cards once and in order; a 429's Retry-After is honoured."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.alerts.reload import RuleBook
from bot.channels.pacing import Window
from bot.channels.presenter import AlertPresenter
from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import Pacer
from bot.models import AlertEvent, AlertEventKind, ChannelKind, OutboxStatus
from bot.notify import OutboxDispatcher, RetryPolicy
from bot.store import new_outbox_item
from bot.store.sql import SqlStore
from bot.views.model import CardView
from tests.cards.samples import NOW, alert, job_rule
from tests.channels.teams.fake_connector import THREAD
from tests.channels.teams.limited_connector import LimitedConnector
from tests.channels.teams.test_teams_notifier import reference

RULE = job_rule()


@pytest.fixture
def fake() -> LimitedConnector:
    """Overrides conftest's connector: answers after 10 ms, 10 requests a second per app."""
    return LimitedConnector(latency=0.01, app_limit=(10, 1.0), retry_after="2")


class CountingRenderer:
    def __init__(self, renderer: CardRenderer) -> None:
        self.renderer = renderer
        self.renders = 0

    def render(self, view: CardView) -> Any:
        self.renders += 1
        return self.renderer.render(view)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def count_calls(store: SqlStore, *names: str) -> dict[str, int]:
    """Counts the calls of those store methods from now on."""
    counts = dict.fromkeys(names, 0)
    for name in names:
        original = getattr(store, name)

        async def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            counts[_name] += 1
            return await _original(*args)

        setattr(store, name, counted)
    return counts


async def fan_out(store: SqlStore, service_url: str, conversations: int, alerts: int) -> list[str]:
    """Channels subscribed to `alerts` alerts, a FIRED event of each queued for each."""
    channels = [f"19:fanout-{n}@thread.tacv2" for n in range(conversations)]
    for channel in channels:
        await store.upsert_conversation(reference(service_url, channel, "channel"))
    for alert_id in range(1, alerts + 1):
        subject = await store.save_alert(
            alert(version=0, id=alert_id, fingerprint=f"{alert_id:016x}")
        )
        event = AlertEvent(kind=AlertEventKind.FIRED, at=NOW, rule_id=RULE.id, alert=subject)
        await store.enqueue(
            [
                new_outbox_item(event, conversation_id=c, channel=ChannelKind.TEAMS, not_before=NOW)
                for c in channels
            ]
        )
    return channels


def notifier(store: SqlStore, renderer: Any, pacer: Pacer) -> Any:
    presenter = AlertPresenter(
        store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
    )
    return TeamsChannel(BotIdentity(), pacer=pacer).notifier(
        store=store, presenter=presenter, renderer=renderer
    )


def posted_alerts(fake: LimitedConnector) -> dict[str, list[int]]:
    """Per channel, the alert id of each card posted (and answered), in the order made."""
    found: dict[str, list[int]] = defaultdict(list)
    for message in fake.messages.values():
        card = message.activity["attachments"][0]["content"]
        found[message.conversation_id.split(THREAD)[0]].append(_alert_id(card))
    return found


def _alert_id(value: Any) -> int:
    if isinstance(value, dict):
        if isinstance(value.get("alertId"), int):
            return int(value["alertId"])
        return max((_alert_id(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return max((_alert_id(v) for v in value), default=0)
    return 0


async def test_a_fan_out_renders_the_card_once_and_reads_the_store_together(
    store: SqlStore, fake: LimitedConnector, service_url: str, renderer: CardRenderer
) -> None:
    fake.app_limit = (1000, 1.0)
    channels = await fan_out(store, service_url, conversations=12, alerts=1)
    counting = CountingRenderer(renderer)
    calls = count_calls(
        store,
        "get_conversation",
        "get_conversations",
        "get_alert",
        "get_alerts",
        "recent_sends",
        "recent_sends_of",
    )
    dispatcher = OutboxDispatcher(
        store=store, notifier=notifier(store, counting, Pacer()), clock=lambda: NOW, concurrency=16
    )
    assert await dispatcher.dispatch_due() == 12
    assert counting.renders == 1  # one card for the event, shown in every conversation
    # Twelve deliveries, no read of one key: at most two queries per kind (the first
    # delivery of all also counts the replicas delivering, and catches up a step later).
    assert (calls["get_conversation"], calls["get_alert"], calls["recent_sends"]) == (0, 0, 0)
    assert calls["get_conversations"] + calls["get_alerts"] + calls["recent_sends_of"] <= 6
    assert posted_alerts(fake) == {channel: [1] for channel in channels}
    assert {item.status for item in await store.list_outbox()} == {OutboxStatus.SENT}


async def test_every_conversation_gets_its_cards_once_in_order_and_429s_are_honoured(
    store: SqlStore, fake: LimitedConnector, service_url: str, renderer: CardRenderer
) -> None:
    channels = await fan_out(store, service_url, conversations=8, alerts=2)
    # The bot's app window is far above the connector's 10 a second: Teams refuses the
    # excess with 429 and Retry-After: 2, and the outbox must wait that long.
    pacer = Pacer(app_windows=(Window(1000, 1.0),))
    clock = Clock()
    dispatcher = OutboxDispatcher(
        store=store,
        notifier=notifier(store, renderer, pacer),
        clock=clock,
        policy=RetryPolicy(base=timedelta(seconds=0.2)),
        rand=lambda: 0.0,
        concurrency=16,
    )
    await dispatcher.dispatch_due()
    assert fake.refused > 0
    deferred = await store.list_outbox(status=OutboxStatus.PENDING)
    throttled = [item for item in deferred if "HTTP 429" in (item.last_error or "")]
    assert throttled
    assert all(item.next_attempt_at >= NOW + timedelta(seconds=2) for item in throttled)
    assert (
        await store.claim_conversations(
            worker="early",
            now=NOW + timedelta(seconds=1.9),
            lease=timedelta(seconds=1),
            conversations=16,
            per_conversation=10,
        )
        == []
    )  # nothing throttled is tried before Teams said
    for _ in range(20):
        if not await store.list_outbox(status=OutboxStatus.PENDING):
            break
        clock.now += timedelta(seconds=3)
        await asyncio.sleep(1.1)  # the connector's window, in real time
        await dispatcher.dispatch_due()
    assert await store.list_outbox(status=OutboxStatus.PENDING) == []
    # Each conversation: both cards, once each, the first alert's first.
    assert posted_alerts(fake) == {channel: [1, 2] for channel in channels}
