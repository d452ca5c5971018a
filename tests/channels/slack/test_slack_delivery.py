"""The shared delivery policy with the Slack connector, against the local Slack Web API
(tests/support/slack, after docs.slack.dev/reference/methods/chat.postMessage and
chat.update, and docs.slack.dev/apis/web-api/rate-limits): the alert message is posted,
edited in place, follow-ups go to its thread after the parent is brought up to date; 429
is retried after Retry-After, a channel the bot left is pruned, refused blocks give up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.alerts.reload import RuleBook
from bot.channels.delivery import ChannelNotifier
from bot.channels.presenter import AlertPresenter
from bot.channels.slack import SlackChannel
from bot.channels.slack.conversations import conversation_ref
from bot.channels.slack.message import SlackMessage
from bot.models import (
    AlertEvent,
    AlertEventKind,
    AlertInstance,
    AlertStatus,
    ChannelKind,
    OutboxItem,
)
from bot.notify import DeliveryResult
from bot.store import new_outbox_item
from bot.store.sql import SqlStore
from tests.cards.samples import NOW, alert, job_rule
from tests.support.slack import FakeSlack

RULE = job_rule()
TEAM, ALERTS = "T0TEAM0001", "C0ALERTS01"
CONVERSATION = f"slack:{TEAM}:{ALERTS}"


class Harness:
    def __init__(
        self, store: SqlStore, notifier: ChannelNotifier[SlackMessage], slack: FakeSlack
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.slack = slack

    async def deliver(
        self, kind: AlertEventKind, subject: AlertInstance | None = None, channel: str = ALERTS
    ) -> DeliveryResult:
        await self.store.upsert_conversation(
            conversation_ref(TEAM, channel, channel_type="channel", now=NOW)
        )
        at = NOW + timedelta(minutes=len(await self.store.list_outbox()))
        event = AlertEvent(kind=kind, at=at, rule_id=RULE.id, alert=subject)
        item = new_outbox_item(
            event,
            conversation_id=f"slack:{TEAM}:{channel}",
            channel=ChannelKind.SLACK,
            not_before=NOW,
        )
        [queued] = await self.store.enqueue([item])
        result = await self.notifier.deliver(queued)
        if result.outcome == "sent":
            await self.store.mark_sent(queued.id, message_id=result.message_id)
        return result

    async def save(self, **changes: Any) -> AlertInstance:
        current = await self.store.get_alert(42)
        if current is None:
            return await self.store.save_alert(alert(version=0, **changes))
        return await self.store.save_alert(current.model_copy(update=changes))


@pytest.fixture
async def harness(store: SqlStore, fake_slack: FakeSlack) -> Harness:
    channel = SlackChannel(
        bot_token=fake_slack.state.bot_token, signing_secret="s", api_url=fake_slack.api_url
    )
    presenter = AlertPresenter(
        store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
    )
    return Harness(store, channel.notifier(store=store, presenter=presenter), fake_slack)


async def test_posted_edited_in_place_and_followed_up_in_the_thread(harness: Harness) -> None:
    fired = await harness.save()
    posted = await harness.deliver(AlertEventKind.FIRED, fired)
    assert posted.outcome == "sent"
    [message] = harness.slack.state.messages_in(ALERTS)
    assert posted.message_id == message.ts
    assert message.text.startswith("Sev")

    acknowledged = await harness.save(
        status=AlertStatus.ACKNOWLEDGED, acknowledged_by="U0ADMIN001", acknowledged_at=NOW
    )
    assert (await harness.deliver(AlertEventKind.UPDATED, acknowledged)).message_id == message.ts
    assert len(message.edits) == 1
    assert "Acknowledged" in str(message.blocks)
    # The same state again: the message already shows it, nothing is sent.
    await harness.deliver(AlertEventKind.UPDATED, acknowledged)
    assert len(message.edits) == 1

    resolved = await harness.save(status=AlertStatus.RESOLVED, resolved_at=NOW)
    reply = await harness.deliver(AlertEventKind.RESOLVED, resolved)
    [answer] = harness.slack.state.replies_to(ALERTS, message.ts)
    assert reply.message_id == answer.ts
    assert "Resolved" in answer.text or "resolved" in answer.text
    assert "Resolved" in str(message.blocks)  # the parent first, then the reply
    assert len(harness.slack.state.messages_in(ALERTS)) == 1


async def test_a_rate_limit_is_retried_after_retry_after(harness: Harness) -> None:
    harness.slack.controls.throttle.throttle_next("chat.postMessage", retry_after=7)
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "retry"
    assert result.delay_seconds == 7
    assert harness.slack.state.messages_in(ALERTS) == []


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "account_inactive"]
)
async def test_a_channel_the_bot_cannot_post_to_is_pruned(harness: Harness, error: str) -> None:
    harness.slack.controls.fail_next("chat.postMessage", error)
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "failed"
    assert error in (result.reason or "")
    assert await harness.store.get_conversation(CONVERSATION) is None


async def test_refused_blocks_give_up_and_keep_the_channel(harness: Harness) -> None:
    harness.slack.controls.fail_next("chat.postMessage", "invalid_blocks")
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "failed"
    assert await harness.store.get_conversation(CONVERSATION) is not None


async def test_a_server_error_is_retried(harness: Harness) -> None:
    harness.slack.controls.fail_next("chat.postMessage", status=503)
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save())
    assert result.outcome == "retry"


async def test_the_archived_channel_of_the_fake_is_pruned_without_scripting(
    harness: Harness,
) -> None:
    result = await harness.deliver(AlertEventKind.FIRED, await harness.save(), channel="C0ARCHIV01")
    assert result.outcome == "failed"
    assert await harness.store.get_conversation(f"slack:{TEAM}:C0ARCHIV01") is None


def test_items_of_another_channel_are_not_ours(harness: Harness) -> None:
    item = OutboxItem.model_construct(channel=ChannelKind.TEAMS)
    assert harness.notifier.channel is ChannelKind.SLACK
    assert item.channel is not harness.notifier.channel
