"""Each outbox item goes to the notifier of its conversation's channel."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.models import AlertEvent, AlertEventKind, ChannelKind, OutboxItem
from bot.notify import RecordingNotifier, RoutingNotifier
from bot.store.base import new_outbox_item

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def item(channel: ChannelKind, conversation_id: str) -> OutboxItem:
    event = AlertEvent(kind=AlertEventKind.EVALUATION_ERROR, at=NOW, rule_id="r", detail="x")
    return new_outbox_item(event, conversation_id=conversation_id, channel=channel, not_before=NOW)


async def test_items_go_to_their_channels_notifier() -> None:
    teams, slack = RecordingNotifier(), RecordingNotifier()
    routing = RoutingNotifier({ChannelKind.TEAMS: teams, ChannelKind.SLACK: slack})
    assert (await routing.deliver(item(ChannelKind.SLACK, "T1:C1"))).outcome == "sent"
    assert (await routing.deliver(item(ChannelKind.TEAMS, "19:x"))).outcome == "sent"
    assert [i.conversation_id for i in slack.attempts] == ["T1:C1"]
    assert [i.conversation_id for i in teams.attempts] == ["19:x"]


async def test_a_channel_without_a_notifier_fails_for_good() -> None:
    teams = RecordingNotifier()
    result = await RoutingNotifier({ChannelKind.TEAMS: teams}).deliver(
        item(ChannelKind.SLACK, "T1:C1")
    )
    assert result.outcome == "failed"
    assert result.reason == "slack is not configured"
    assert teams.attempts == []
