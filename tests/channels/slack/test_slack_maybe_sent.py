"""A Slack post whose answer is lost (chat.postMessage took effect, its answer came after
the request's time limit) is found again on redelivery through its message metadata
(conversations.history with include_all_metadata, of the local Slack after
docs.slack.dev/reference/methods/conversations.history and docs.slack.dev/messaging/
message-metadata), adopted and edited, not posted twice; a reply likewise through
conversations.replies."""

from __future__ import annotations

import pytest

from bot.alerts.reload import RuleBook
from bot.channels.maybe_sent import EVENT_TYPE
from bot.channels.presenter import AlertPresenter
from bot.channels.slack import SlackChannel
from bot.channels.slack.conversations import conversation_ref
from bot.models import AlertEvent, AlertEventKind, AlertStatus, ChannelKind, OutboxStatus
from bot.store import new_outbox_item
from bot.store.sql import SqlStore
from tests.cards.samples import NOW
from tests.channels.slack.test_slack_delivery import ALERTS, RULE, TEAM, Harness
from tests.support.slack import FakeSlack

CONVERSATION = f"slack:{TEAM}:{ALERTS}"
LIMIT = 0.5


@pytest.fixture
async def harness(store: SqlStore, fake_slack: FakeSlack) -> Harness:
    channel = SlackChannel(
        bot_token=fake_slack.state.bot_token, signing_secret="s", api_url=fake_slack.api_url
    )
    presenter = AlertPresenter(
        store=store, rules=RuleBook([RULE], loaded_at=NOW), clock=lambda: NOW
    )
    notifier = channel.notifier(store=store, presenter=presenter, time_budget=5.0)
    notifier._request_cap = LIMIT  # the request limit, short for the test
    await store.upsert_conversation(conversation_ref(TEAM, ALERTS, channel_type="channel", now=NOW))
    return Harness(store, notifier, fake_slack)


async def _queue(harness: Harness, kind: AlertEventKind, **changes: object) -> int:
    subject = await harness.save(**changes)
    event = AlertEvent(kind=kind, at=NOW, rule_id=RULE.id, alert=subject)
    item = new_outbox_item(
        event, conversation_id=CONVERSATION, channel=ChannelKind.SLACK, not_before=NOW
    )
    [queued] = await harness.store.enqueue([item])
    return queued.id


async def _pending(harness: Harness, item_id: int):  # type: ignore[no-untyped-def]
    [item] = [i for i in await harness.store.list_outbox() if i.id == item_id]
    return item


async def test_a_post_answered_too_late_is_adopted_and_edited(harness: Harness) -> None:
    slack = harness.slack
    item_id = await _queue(harness, AlertEventKind.FIRED)
    slack.controls.latency.answer_late("chat.postMessage", 2.0)
    first = await harness.notifier.deliver(await _pending(harness, item_id))
    assert first.outcome == "retry"
    [posted] = slack.state.messages_in(ALERTS)
    assert posted.metadata is not None
    assert posted.metadata["event_type"] == EVENT_TYPE
    maybe = await _pending(harness, item_id)
    assert maybe.post_attempt is not None

    await harness.save(status=AlertStatus.ACKNOWLEDGED, acknowledged_by="someone")
    second = await harness.notifier.deliver(maybe)
    assert second.outcome == "sent"
    assert second.reconciled == "adopted"
    assert second.message_id == posted.ts
    assert slack.state.messages_in(ALERTS) == [posted]  # not posted twice
    assert len(slack.state.calls_to("chat.postMessage")) == 1
    [look_up] = slack.state.calls_to("conversations.history")
    assert look_up.args["include_all_metadata"] == "true"
    assert len(posted.edits) == 1  # brought up to date: the alert was acknowledged since


async def test_a_maybe_sent_post_that_never_arrived_is_posted_again(harness: Harness) -> None:
    slack = harness.slack
    item_id = await _queue(harness, AlertEventKind.FIRED)
    slack.controls.fail_next("chat.postMessage", status=500)  # no telling whether it went
    assert (await harness.notifier.deliver(await _pending(harness, item_id))).outcome == "retry"
    assert slack.state.messages_in(ALERTS) == []
    again = await harness.notifier.deliver(await _pending(harness, item_id))
    assert again.outcome == "sent"
    assert again.reconciled == "reposted"
    assert len(slack.state.messages_in(ALERTS)) == 1


async def test_a_reply_answered_too_late_is_found_in_the_thread(harness: Harness) -> None:
    slack = harness.slack
    fired = await _queue(harness, AlertEventKind.FIRED)
    result = await harness.notifier.deliver(await _pending(harness, fired))
    await harness.store.mark_sent(fired, message_id=result.message_id)
    resolved = await _queue(
        harness, AlertEventKind.RESOLVED, status=AlertStatus.RESOLVED, resolved_at=NOW
    )
    slack.controls.latency.answer_late("chat.postMessage", 2.0)
    assert (await harness.notifier.deliver(await _pending(harness, resolved))).outcome == "retry"
    again = await harness.notifier.deliver(await _pending(harness, resolved))
    assert again.outcome == "sent"
    assert again.reconciled == "adopted"
    assert len(slack.state.replies_to(ALERTS, str(result.message_id))) == 1
    assert len(slack.state.calls_to("conversations.replies")) == 1
    assert (await _pending(harness, resolved)).status is OutboxStatus.PENDING
