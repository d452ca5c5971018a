"""The Teams notifier against a fake Bot Connector: cards posted (a new thread in a channel),
updated in place, follow-ups in the card's thread; retries, pruning and refusals; pacing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.alerts.reload import RuleBook
from bot.channels.presenter import AlertPresenter
from bot.channels.teams import BotIdentity, TeamsChannel, TeamsNotifier
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.pacing import Pacer
from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    ChannelKind,
    ConversationRef,
    OutboxItem,
    OutboxStatus,
    RuleHealth,
    Subscription,
)
from bot.notify import DeliveryResult, OutboxDispatcher
from bot.store import new_outbox_item
from bot.store.sql import SqlStore
from tests.cards.conftest import texts
from tests.cards.digest_samples import digest_views
from tests.cards.samples import NOW, alert, job_rule
from tests.channels.teams.conftest import (
    BOT_ID,
    CHANNEL,
    PERSONAL,
    TEAM,
    TENANT,
    USER_AAD,
    FakeClock,
)
from tests.channels.teams.fake_connector import FakeConnector

RULE = job_rule()


def reference(service_url: str, conversation_id: str, kind: str) -> ConversationRef:
    """A stored reference, as the endpoint saves it (conversations.conversation_ref)."""
    data: dict[str, Any] = {"tenant": {"id": TENANT}}
    if kind == "channel":
        data |= {"team": {"id": TEAM}, "channel": {"id": conversation_id}}
    return ConversationRef(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        kind=kind,  # type: ignore[arg-type]
        reference={
            "user": {"id": "29:user-1", "aadObjectId": USER_AAD},
            "bot": {"id": BOT_ID, "name": "Entra Alerts"},
            "conversation": {"id": conversation_id, "conversationType": kind},
            "channelId": "msteams",
            "serviceUrl": service_url,
            "channelData": data,
        },
        updated_at=NOW,
    )


class Harness:
    """The notifier over a real store, and helpers to queue and deliver events."""

    def __init__(self, store: SqlStore, notifier: TeamsNotifier, fake: FakeConnector) -> None:
        self.store = store
        self.notifier = notifier
        self.fake = fake

    async def event(
        self, kind: AlertEventKind, subject: AlertInstance | None = None, **extra: Any
    ) -> AlertEvent:
        at = NOW + timedelta(minutes=len(await self.store.list_outbox()))  # distinct keys
        return AlertEvent(kind=kind, at=at, rule_id=RULE.id, alert=subject, **extra)

    async def queue(self, event: AlertEvent, conversation_id: str = CHANNEL) -> OutboxItem:
        item = new_outbox_item(
            event, conversation_id=conversation_id, channel=ChannelKind.TEAMS, not_before=NOW
        )
        [queued] = await self.store.enqueue([item])
        return queued

    async def deliver(
        self,
        kind: AlertEventKind,
        subject: AlertInstance | None = None,
        conversation_id: str = CHANNEL,
    ) -> DeliveryResult:
        """Queue an event, deliver it, and record the outcome as the dispatcher would."""
        item = await self.queue(await self.event(kind, subject), conversation_id)
        result = await self.notifier.deliver(item)
        if result.outcome == "sent":
            await self.store.mark_sent(item.id, message_id=result.message_id)
        return result

    async def save(self, **changes: Any) -> AlertInstance:
        """Store the sample alert (first time) or change it."""
        current = await self.store.get_alert(42)
        if current is None:
            return await self.store.save_alert(alert(version=0, **changes))
        return await self.store.save_alert(current.model_copy(update=changes))


@pytest.fixture
async def harness(
    store: SqlStore, fake: FakeConnector, service_url: str, renderer: CardRenderer, pacer: Pacer
) -> AsyncIterator[Harness]:
    for conversation_id, kind in ((CHANNEL, "channel"), (PERSONAL, "personal")):
        await store.upsert_conversation(reference(service_url, conversation_id, kind))
    presenter = AlertPresenter(
        store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
    )
    notifier = TeamsChannel(BotIdentity(), pacer=pacer).notifier(
        store=store, presenter=presenter, renderer=renderer
    )
    return Harness(store, notifier, fake)


# --- what goes where ---------------------------------------------------------------------------


async def test_a_fired_alert_starts_a_thread_in_the_channel(harness: Harness) -> None:
    fired = await harness.save()
    result = await harness.deliver(AlertEventKind.FIRED, fired)
    [create] = harness.fake.calls
    assert create.kind == "create"
    assert create.body["isGroup"] is True
    assert create.body["channelData"] == {"channel": {"id": CHANNEL}, "tenant": {"id": TENANT}}
    assert create.body["bot"]["id"] == BOT_ID
    assert create.card is not None
    assert "Failures on a business-critical" in texts(create.card)
    posted = result.message_id or ""
    assert result == DeliveryResult.sent(posted)
    assert harness.fake.messages[posted].conversation_id == f"{CHANNEL};messageid={posted}"


async def test_a_digest_is_posted_as_its_card_in_the_channel(harness: Harness) -> None:
    view = digest_views(NOW)["digest"]
    event = AlertEvent(
        kind=AlertEventKind.DIGEST, at=NOW, rule_id="provisioning-digest",
        detail=view.model_dump_json(),
    )  # fmt: skip
    result = await harness.notifier.deliver(await harness.queue(event))
    [create] = harness.fake.calls
    assert create.kind == "create"
    assert create.card is not None
    assert view.summary in texts(create.card)
    assert "Unauthorized ×25" in texts(create.card)
    assert result.outcome == "sent"
    broken = event.model_copy(update={"detail": "{not json", "at": NOW + timedelta(days=1)})
    refused = await harness.notifier.deliver(await harness.queue(broken))
    assert refused.outcome != "sent"


async def test_a_fired_alert_in_a_personal_chat_is_a_message(harness: Harness) -> None:
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save(), PERSONAL)
    [send] = harness.fake.calls
    assert (send.kind, send.conversation_id) == ("send", PERSONAL)
    assert send.body["from"]["id"] == BOT_ID
    assert result.outcome == "sent"
    assert result.message_id in harness.fake.messages


async def test_an_update_edits_the_card_to_show_the_alert_as_it_is_now(harness: Harness) -> None:
    fired = await harness.save()
    posted = (await harness.deliver(AlertEventKind.FIRED, fired)).message_id
    acknowledged = await harness.save(
        status=AlertStatus.ACKNOWLEDGED, acknowledged_by=USER_AAD, acknowledged_at=NOW
    )
    # The event carries an older snapshot: the card shows the store's current state anyway.
    result = await harness.deliver(AlertEventKind.UPDATED, fired)
    [update] = harness.fake.of_kind("update")
    assert (update.conversation_id, update.activity_id) == (f"{CHANNEL};messageid={posted}", posted)
    assert update.body["id"] == posted
    assert "Acknowledged" in texts(update.card)
    assert result == DeliveryResult.sent(posted)
    assert acknowledged.status is AlertStatus.ACKNOWLEDGED
    # Nothing changed since: the card is not sent again.
    await harness.deliver(AlertEventKind.UPDATED, acknowledged)
    assert len(harness.fake.of_kind("update")) == 1


async def test_an_update_without_a_posted_card_does_nothing(harness: Harness) -> None:
    result = await harness.deliver(AlertEventKind.UPDATED, await harness.save())
    assert result == DeliveryResult.sent(None)
    assert harness.fake.calls == []


@pytest.mark.parametrize(
    "kind", [AlertEventKind.RESOLVED, AlertEventKind.RENOTIFY, AlertEventKind.SNOOZE_EXPIRED]
)
async def test_a_follow_up_updates_the_header_and_replies_in_the_thread(
    harness: Harness, kind: AlertEventKind
) -> None:
    posted = (await harness.deliver(AlertEventKind.FIRED, await harness.save())).message_id
    changed = await harness.save(
        status=AlertStatus.RESOLVED if kind is AlertEventKind.RESOLVED else AlertStatus.FIRING,
        resolved_at=NOW if kind is AlertEventKind.RESOLVED else None,
        notify_count=2,
    )
    result = await harness.deliver(kind, changed)
    thread = f"{CHANNEL};messageid={posted}"
    calls = harness.fake.calls[1:]
    assert [call.kind for call in calls] == ["update", "send"]  # header first, the post last
    reply = calls[-1]
    assert reply.conversation_id == thread
    assert reply.card is not None
    assert reply.card != harness.fake.calls[0].card
    assert result.outcome == "sent"
    assert harness.fake.messages[result.message_id or ""].conversation_id == thread


async def test_a_follow_up_in_a_chat_replies_to_the_card(harness: Harness) -> None:
    posted = (
        await harness.deliver(AlertEventKind.FIRED, await harness.save(), PERSONAL)
    ).message_id
    resolved = await harness.save(status=AlertStatus.RESOLVED, resolved_at=NOW)
    await harness.deliver(AlertEventKind.RESOLVED, resolved, PERSONAL)
    update, reply = harness.fake.calls[1:]
    assert (update.kind, update.conversation_id, update.activity_id) == ("update", PERSONAL, posted)
    assert (reply.kind, reply.conversation_id, reply.activity_id) == ("reply", PERSONAL, posted)
    assert reply.body["replyToId"] == posted


async def test_a_rule_error_goes_under_the_newest_open_card_of_the_rule(harness: Harness) -> None:
    await harness.store.save_rule_health(
        RuleHealth(rule_id=RULE.id, last_error="boom", consecutive_errors=3)
    )
    posted = (await harness.deliver(AlertEventKind.FIRED, await harness.save())).message_id
    error = await harness.event(
        AlertEventKind.EVALUATION_ERROR, detail="Failed to resolve 'JobIdd'"
    )
    result = await harness.notifier.deliver(await harness.queue(error))
    reply = harness.fake.calls[-1]
    assert (reply.kind, reply.conversation_id) == ("send", f"{CHANNEL};messageid={posted}")
    assert "Failed 3 times in a row." in texts(reply.card)
    assert result.outcome == "sent"


async def test_a_rule_that_recovered_says_so_under_the_newest_open_card(
    harness: Harness,
) -> None:
    posted = (await harness.deliver(AlertEventKind.FIRED, await harness.save())).message_id
    recovered = await harness.event(
        AlertEventKind.EVALUATION_RECOVERED, detail="evaluated again after 3 failed evaluations"
    )
    result = await harness.notifier.deliver(await harness.queue(recovered))
    reply = harness.fake.calls[-1]
    assert (reply.kind, reply.conversation_id) == ("send", f"{CHANNEL};messageid={posted}")
    assert "its alerts are up to date." in texts(reply.card)
    assert result.outcome == "sent"


async def test_a_rule_error_without_a_card_is_a_new_post(harness: Harness) -> None:
    error = await harness.event(AlertEventKind.EVALUATION_ERROR, detail="Failed")
    result = await harness.notifier.deliver(await harness.queue(error))
    [create] = harness.fake.calls
    assert create.kind == "create"
    assert create.card is not None
    assert result.outcome == "sent"


async def test_a_rule_no_longer_loaded_gives_up(harness: Harness) -> None:
    gone = AlertEvent(
        kind=AlertEventKind.FIRED, at=NOW, rule_id="gone", alert=alert(rule_id="gone")
    )
    result = await harness.notifier.deliver(await harness.queue(gone))
    assert result.outcome == "failed"
    assert "no longer loaded" in (result.reason or "")
    assert harness.fake.calls == []


async def test_a_conversation_without_a_reference_gives_up(harness: Harness) -> None:
    item = await harness.queue(await harness.event(AlertEventKind.FIRED, alert()), "19:unknown")
    result = await harness.notifier.deliver(item)
    assert result.outcome == "failed"


# --- failures ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "expected"),
    [
        (429, "Throttled", "7", DeliveryResult.retry_after(7.0, reason="")),
        (412, "PreconditionFailed", None, DeliveryResult.retry_after(None, reason="")),
        (502, None, None, DeliveryResult.retry_after(None, reason="")),
        (503, "ServiceUnavailable", "3", DeliveryResult.retry_after(3.0, reason="")),
        (504, None, None, DeliveryResult.retry_after(None, reason="")),
        (500, "InternalServerError", None, DeliveryResult.retry_after(None, reason="")),
        (413, "MessageSizeTooBig", None, DeliveryResult.permanent_failure("")),
        (400, "BadArgument", None, DeliveryResult.permanent_failure("")),
        (401, "Unauthorized", None, DeliveryResult.permanent_failure("")),
    ],
)
async def test_failures_are_retried_or_given_up(
    harness: Harness,
    status: int,
    code: str | None,
    retry_after: str | None,
    expected: DeliveryResult,
) -> None:
    harness.fake.fail(status, code, retry_after=retry_after)
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert (result.outcome, result.delay_seconds) == (expected.outcome, expected.delay_seconds)
    assert f"HTTP {status}" in (result.reason or "")
    assert len(harness.fake.calls) == 1  # one request: retrying is the outbox's business
    assert await harness.store.get_conversation(CHANNEL) is not None


async def test_too_big_is_logged_as_an_error(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.fake.fail(413, "MessageSizeTooBig")
    with caplog.at_level(logging.ERROR):
        await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert "MessageSizeTooBig" in caplog.text


@pytest.mark.parametrize(
    ("status", "code"), [(403, "BotNotInConversationRoster"), (404, "NotFound")]
)
async def test_a_bot_no_longer_in_the_conversation_prunes_it(
    harness: Harness, status: int, code: str
) -> None:
    store = harness.store
    await store.subscribe(
        Subscription(
            conversation_id=CHANNEL,
            channel=ChannelKind.TEAMS,
            target="all",
            created_by=USER_AAD,
            created_at=NOW,
        )
    )
    pending = await harness.queue(await harness.event(AlertEventKind.RENOTIFY, alert()))
    harness.fake.fail(status, code)
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "failed"
    assert await store.get_conversation(CHANNEL) is None
    assert await store.list_subscriptions() == []
    [left] = await store.list_outbox(conversation_id=CHANNEL, status=OutboxStatus.FAILED, limit=1)
    assert left.id == pending.id


async def test_another_403_does_not_prune(harness: Harness) -> None:
    harness.fake.fail(403, "ConversationBlockedByUser")
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "failed"
    assert await harness.store.get_conversation(CHANNEL) is not None


async def test_a_deleted_card_is_not_a_deleted_conversation(harness: Harness) -> None:
    posted = (await harness.deliver(AlertEventKind.FIRED, await harness.save())).message_id
    del harness.fake.messages[posted or ""]  # someone deleted the card
    changed = await harness.save(status=AlertStatus.ACKNOWLEDGED, acknowledged_by=USER_AAD)
    result = await harness.deliver(AlertEventKind.UPDATED, changed)
    assert result.outcome == "failed"
    assert "HTTP 404" in (result.reason or "")
    assert await harness.store.get_conversation(CHANNEL) is not None


async def test_no_answer_at_all_is_retried(harness: Harness, store: SqlStore) -> None:
    await store.upsert_conversation(reference("http://127.0.0.1:9/", CHANNEL, "channel"))
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "retry"
    assert "no answer" in (result.reason or "")


async def test_a_follow_up_whose_update_failed_replies_once_when_retried(harness: Harness) -> None:
    await harness.deliver(AlertEventKind.FIRED, await harness.save())
    resolved = await harness.save(status=AlertStatus.RESOLVED, resolved_at=NOW)
    item = await harness.queue(await harness.event(AlertEventKind.RESOLVED, resolved))
    harness.fake.fail(429, "Throttled", retry_after="1", kind="update")
    first = await harness.notifier.deliver(item)
    assert first.outcome == "retry"
    assert harness.fake.of_kind("send") == []  # the reply, the only post, comes last
    second = await harness.notifier.deliver(item)
    assert second.outcome == "sent"
    assert len(harness.fake.of_kind("send")) == 1


async def test_the_dispatcher_waits_as_long_as_teams_asks(
    harness: Harness, store: SqlStore
) -> None:
    await harness.save()
    item = await harness.queue(await harness.event(AlertEventKind.FIRED, alert()))
    harness.fake.fail(429, "Throttled", retry_after="600")
    dispatcher = OutboxDispatcher(store=store, notifier=harness.notifier, clock=lambda: NOW)
    await dispatcher.dispatch_due()
    [retried] = await store.list_outbox(status=OutboxStatus.PENDING)
    assert retried.id == item.id
    assert retried.next_attempt_at >= NOW + timedelta(seconds=600)
    assert "HTTP 429 Throttled" in (retried.last_error or "")


# --- pacing ------------------------------------------------------------------------------------


async def test_posts_are_paced_under_teams_limits(harness: Harness, clock: FakeClock) -> None:
    fired = await harness.save()
    start = clock.now
    results = [await harness.deliver(AlertEventKind.FIRED, fired) for _ in range(9)]
    assert all(result.outcome == "sent" for result in results)
    # The 8th waits for the 1 s window, the 9th for 8 in 2 s, each with its safety margin
    # (x 1.1 + 50 ms: bot.channels.pacing).
    assert clock.slept == [pytest.approx(1.15), pytest.approx(1.1)]
    assert clock.now == pytest.approx(start + 2.25)


async def test_a_long_wait_defers_the_delivery(
    store: SqlStore, fake: FakeConnector, service_url: str, renderer: CardRenderer, clock: FakeClock
) -> None:
    await store.upsert_conversation(reference(service_url, CHANNEL, "channel"))
    pacer = Pacer(clock=clock, sleep=clock.sleep, max_wait=0.5)
    notifier = TeamsChannel(BotIdentity(), pacer=pacer).notifier(
        store=store,
        presenter=AlertPresenter(
            store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
        ),
        renderer=renderer,
    )
    harness = Harness(store, notifier, fake)
    fired = await harness.save()
    results = [await harness.deliver(AlertEventKind.FIRED, fired) for _ in range(8)]
    assert [r.outcome for r in results] == ["sent"] * 7 + ["retry"]
    assert results[-1].delay_seconds == pytest.approx(1.15)
    assert "paced" in (results[-1].reason or "")
    assert len(fake.calls) == 7
    assert clock.slept == []


async def test_the_bot_token_is_sent_when_authentication_is_on(
    store: SqlStore,
    fake: FakeConnector,
    service_url: str,
    renderer: CardRenderer,
    pacer: Pacer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botframework.connector.auth import MicrosoftAppCredentials

    asked: list[str] = []

    def token(credentials: Any, force_refresh: bool = False) -> str:
        asked.append(credentials.microsoft_app_id)
        return "token-for-tests"

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", token)
    await store.upsert_conversation(reference(service_url, CHANNEL, "channel"))
    identity = BotIdentity(
        app_id="3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b",
        app_password="secret",
        app_type="SingleTenant",
        tenant_id=TENANT,
    )
    notifier = TeamsChannel(identity, pacer=pacer).notifier(
        store=store,
        presenter=AlertPresenter(
            store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
        ),
        renderer=renderer,
    )
    harness = Harness(store, notifier, fake)
    fired = await harness.save()
    await harness.deliver(AlertEventKind.FIRED, fired)
    await harness.deliver(AlertEventKind.RENOTIFY, fired)
    assert {call.authorization for call in fake.calls} == {"Bearer token-for-tests"}
    assert set(asked) == {identity.app_id}
