"""A Teams post whose answer is lost (accepted, then answered after the request's time
limit): the item stays "maybe sent", and the redelivery, which cannot look the post up
(the Bot Connector lists no messages), posts again saying it may repeat the card; a slow
answer in one conversation holds up no other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot import messages
from bot.alerts.reload import RuleBook
from bot.channels.presenter import AlertPresenter
from bot.channels.teams import BotIdentity, TeamsChannel, TeamsNotifier
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import Pacer
from bot.models import AlertEventKind, OutboxStatus
from bot.notify import OutboxDispatcher
from bot.store.sql import SqlStore
from tests.cards.samples import NOW, alert
from tests.channels.teams.conftest import CHANNEL, PERSONAL
from tests.channels.teams.fake_connector import FakeConnector
from tests.channels.teams.test_teams_notifier import RULE, Harness, reference

#: The request limit here: the fake answers later than this.
LIMIT = 0.5


async def _never() -> None:
    await asyncio.Event().wait()


@pytest.fixture
async def notifier(
    store: SqlStore, fake: FakeConnector, service_url: str, renderer: CardRenderer, pacer: Pacer
) -> AsyncIterator[TeamsNotifier]:
    for conversation_id, kind in ((CHANNEL, "channel"), (PERSONAL, "personal")):
        await store.upsert_conversation(reference(service_url, conversation_id, kind))
    presenter = AlertPresenter(
        store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
    )
    notifier = TeamsChannel(BotIdentity(), pacer=pacer).notifier(
        store=store, presenter=presenter, renderer=renderer, time_budget=5.0
    )
    notifier._request_cap = LIMIT  # the request limit, short for the test
    return notifier


async def test_a_post_answered_too_late_is_maybe_sent_and_reposted_with_a_note(
    store: SqlStore, notifier: TeamsNotifier, fake: FakeConnector
) -> None:
    harness = Harness(store, notifier, fake)
    item = await harness.queue(await harness.event(AlertEventKind.FIRED, await harness.save()))
    fake.answer_later("create", _never)  # accepted: the card is in the channel
    first = await notifier.deliver(item)
    assert first.outcome == "retry"
    assert "no answer" in (first.reason or "")
    assert len(fake.of_kind("create")) == 1
    [pending] = await store.list_outbox(status=OutboxStatus.PENDING)
    assert pending.post_attempt is not None
    assert pending.post_started_at is not None

    second = await notifier.deliver(pending)
    assert second.outcome == "sent"
    assert second.reconciled == "reposted"
    first_post, repost = fake.of_kind("create")
    assert first_post.text is None  # a first post says nothing more
    assert repost.text == messages.maybe_repeated()
    assert repost.card == first_post.card


async def test_a_refused_post_is_not_maybe_sent(
    store: SqlStore, notifier: TeamsNotifier, fake: FakeConnector
) -> None:
    harness = Harness(store, notifier, fake)
    item = await harness.queue(await harness.event(AlertEventKind.FIRED, await harness.save()))
    fake.fail(429, "Throttled", retry_after="1")
    assert (await notifier.deliver(item)).outcome == "retry"
    [pending] = await store.list_outbox(status=OutboxStatus.PENDING)
    assert pending.post_attempt is None
    again = await notifier.deliver(pending)
    assert again.outcome == "sent"
    assert again.reconciled is None
    assert [call.text for call in fake.of_kind("create")] == [None, None]


async def test_a_slow_answer_holds_up_no_other_conversation(
    store: SqlStore, notifier: TeamsNotifier, fake: FakeConnector
) -> None:
    """The channel's post is answered only once the personal chat's message arrived: if
    deliveries waited for each other, it would time out instead."""
    harness = Harness(store, notifier, fake)
    fired = await harness.save()
    other_arrived = asyncio.Event()
    notifier._request_cap = 5.0  # longer than the whole test takes

    async def until_the_other_arrived() -> None:
        await other_arrived.wait()

    async def arrived() -> None:
        other_arrived.set()

    fake.answer_later("create", until_the_other_arrived)
    fake.answer_later("send", arrived)
    await harness.queue(await harness.event(AlertEventKind.FIRED, fired), CHANNEL)
    await harness.queue(await harness.event(AlertEventKind.FIRED, alert()), PERSONAL)
    dispatcher = OutboxDispatcher(store=store, notifier=notifier, clock=lambda: NOW)
    assert await dispatcher.dispatch_due() == 2
    sent = await store.list_outbox(status=OutboxStatus.SENT)
    assert sorted(item.conversation_id for item in sent) == sorted([CHANNEL, PERSONAL])
