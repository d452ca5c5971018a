"""Pacing across replicas: a replica taking over a conversation continues its rate window
(kept on the conversation's lease row), and the app's windows are shared among the
replicas that claimed conversations lately."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.alerts.reload import RuleBook
from bot.channels.pacing import Window
from bot.channels.presenter import AlertPresenter
from bot.channels.teams import BotIdentity, TeamsChannel, TeamsNotifier
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import Pacer
from bot.models import AlertEventKind
from bot.store.sql import SqlStore
from tests.cards.samples import NOW
from tests.channels.teams.conftest import CHANNEL, FakeClock
from tests.channels.teams.fake_connector import FakeConnector
from tests.channels.teams.test_teams_notifier import RULE, Harness, reference


def replica(
    store: SqlStore, renderer: CardRenderer, clock: FakeClock, pacer: Pacer
) -> TeamsNotifier:
    """One replica's notifier: its own pacer, the shared store, a wall clock in step."""

    def wall() -> datetime:
        return NOW + timedelta(seconds=clock.now - 1000.0)

    presenter = AlertPresenter(
        store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
    )
    notifier = TeamsChannel(BotIdentity(), pacer=pacer).notifier(
        store=store, presenter=presenter, renderer=renderer, wall=wall
    )
    notifier._clock = clock  # requests and pacing on the fake clock
    notifier._pacing._clock = clock
    return notifier


async def test_the_replica_taking_over_continues_the_rate_window(
    store: SqlStore, fake: FakeConnector, service_url: str, renderer: CardRenderer
) -> None:
    await store.upsert_conversation(reference(service_url, CHANNEL, "channel"))
    clock = FakeClock()
    first = replica(store, renderer, clock, Pacer(clock=clock, sleep=clock.sleep, max_wait=0.5))
    harness = Harness(store, first, fake)
    fired = await harness.save()
    assert [(await harness.deliver(AlertEventKind.FIRED, fired)).outcome for _ in range(7)] == [
        "sent"
    ] * 7
    # The lease moves: another replica, with a pacer of its own, delivers next.
    second = replica(store, renderer, clock, Pacer(clock=clock, sleep=clock.sleep, max_wait=0.5))
    harness.notifier = second
    result = await harness.deliver(AlertEventKind.FIRED, fired)
    assert result.outcome == "retry"
    assert "paced" in (result.reason or "")
    assert result.delay_seconds == pytest.approx(1.15)
    assert len(fake.of_kind("create")) == 7


async def test_the_app_window_is_shared_by_the_replicas_delivering() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=0.0, app_windows=(Window(4, 1.0),))
    pacer.share_app(2)
    assert [await pacer.acquire(name) for name in "ab"] == [0.0, 0.0]
    assert await pacer.acquire("c") > 0  # 2 of the app's 4 a second are this replica's
    pacer.share_app(1)
    assert await pacer.acquire("c") == 0.0
