"""Pure pieces of the Teams channel, as tables: ids and threads, tenants, what a Bot Connector
failure means for a delivery, and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botbuilder.schema import Activity

from bot.channels.teams import conversations
from bot.channels.teams.connector import ConnectorError, Verdict, retry_after
from tests.channels.teams.conftest import CHANNEL, TENANT, activity, channel


@pytest.mark.parametrize(
    ("conversation_id", "base"),
    [
        (f"{CHANNEL};messageid=1700000000001", CHANNEL),
        (CHANNEL, CHANNEL),
        ("a:1personal", "a:1personal"),
    ],
)
def test_a_thread_belongs_to_its_channel(conversation_id: str, base: str) -> None:
    assert conversations.base_conversation_id(conversation_id) == base
    assert conversations.thread_id(conversation_id, "7") == f"{base};messageid=7"


def parsed(body: dict[str, Any]) -> Any:
    return Activity().deserialize(body)


@pytest.mark.parametrize(
    ("change", "tenant"),
    [
        ({}, TENANT),
        ({"channelData": {}}, TENANT),  # from conversation.tenantId
        ({"channelData": {}, "conversation": {"id": "a:1"}}, None),
        ({"channelData": {"tenant": {"id": "other"}}}, "other"),
    ],
)
def test_the_tenant_comes_from_channel_data_then_the_conversation(
    change: dict[str, Any], tenant: str | None
) -> None:
    body = activity("message", "https://smba.example/") | change
    assert conversations.tenant_id(parsed(body)) == tenant


def test_a_caller_in_a_channel_thread() -> None:
    body = activity("message", "https://smba.example/", **channel(thread_of="9"))
    caller = conversations.caller(parsed(body))
    assert (caller.conversation_id, caller.conversation_kind) == (CHANNEL, "channel")


@pytest.mark.parametrize(
    ("operation", "status", "code", "verdict"),
    [
        ("post", 429, "Throttled", "retry"),
        ("post", 412, None, "retry"),
        ("update", 502, None, "retry"),
        ("post", 503, None, "retry"),
        ("reply", 504, None, "retry"),
        ("post", 500, None, "retry"),
        ("post", None, None, "retry"),
        ("post", 403, "BotNotInConversationRoster", "prune"),
        ("update", 403, "BotNotInConversationRoster", "prune"),
        ("post", 404, "NotFound", "prune"),
        ("reply", 404, None, "prune"),
        ("update", 404, "NotFound", "give_up"),  # the message is gone, not the conversation
        ("update", 404, "ConversationNotFound", "prune"),
        ("post", 403, "ConversationBlockedByUser", "give_up"),
        ("post", 413, "MessageSizeTooBig", "give_up"),
        ("post", 400, "BadArgument", "give_up"),
        ("post", 401, None, "give_up"),
    ],
)
def test_what_a_failure_means(
    operation: str, status: int | None, code: str | None, verdict: Verdict
) -> None:
    assert ConnectorError(operation, status=status, code=code).verdict == verdict


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Mon, 04 May 2026 10:50:30 GMT", 30.0),
        ("Mon, 04 May 2026 10:49:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    now = datetime(2026, 5, 4, 10, 50, tzinfo=UTC)
    assert retry_after(header, now=now) == seconds
