"""Reading the Playground's events and cards, and waiting on its stream (no Playground: a
local WebSocket server plays it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.playground.events import (
    ADAPTIVE_CARD,
    STREAM_PATH,
    Event,
    EventStream,
    card_summary,
    card_text,
)
from tests.support.playground import action_titles, find_action

CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "fallbackText": "Sev2 A workflow failed (alert 7, acknowledged)",
    "body": [
        {"type": "TextBlock", "text": "A workflow failed"},
        {
            "type": "RichTextBlock",
            "inlines": [
                {"type": "TextRun", "text": "Acknowledged by "},
                {"type": "TextRun", "text": "Alex Wilber"},
                {"type": "TextRun", "text": " at 10:42"},
            ],
        },
        {"type": "FactSet", "facts": [{"title": "JobId", "value": "scim.1"}]},
    ],
    "actions": [
        {
            "type": "Action.ShowCard",
            "title": "Snooze",
            "card": {
                "type": "AdaptiveCard",
                "body": [{"type": "Input.ChoiceSet", "id": "duration", "value": "4h"}],
                "actions": [{"type": "Action.Execute", "title": "Snooze", "verb": "s"}],
            },
        },
        {"type": "Action.Execute", "title": "Resolve", "verb": "r", "data": {"alertId": 7}},
    ],
}


def _event(action: str = "createMessage", conversation: str = "channel", **message: Any) -> Event:
    return Event(action, conversation, {"messageId": "1", **message})


def test_a_card_reads_as_its_texts_with_rich_text_runs_joined() -> None:
    shown = card_text(CARD)

    assert "Acknowledged by Alex Wilber at 10:42" in shown
    assert "JobId scim.1" in shown
    assert "4h" not in shown  # an input's value is not shown text
    assert card_summary(CARD) == "Sev2 A workflow failed (alert 7, acknowledged)"


def test_buttons_are_found_by_title_inside_show_cards_too() -> None:
    snooze = find_action(CARD, "Snooze")

    assert snooze is not None
    assert snooze["type"] == "Action.Execute"
    assert find_action(CARD, "Resolve") == CARD["actions"][1]
    assert find_action(CARD, "Acknowledge") is None
    assert action_titles(CARD) == ["Snooze", "Snooze", "Resolve"]


def test_an_event_knows_its_channel_its_thread_and_its_card() -> None:
    attachment = {"contentType": ADAPTIVE_CARD, "content": CARD}
    post = _event(attachments=[attachment], postConversationId="c;messageid=1")
    reply = _event(conversation="c;messageid=5", text="This conversation now hears about all")

    assert post.card == CARD
    assert post.new_post_conversation_id == "c;messageid=1"
    assert not post.is_thread_reply
    assert reply.channel_id == "c"
    assert reply.is_thread_reply
    assert reply.card is None
    assert reply.shows("now  HEARS about")
    assert post.shows("Acknowledged by Alex Wilber")


@pytest.fixture
async def playground() -> AsyncIterator[tuple[TestServer, Clients]]:
    """A WebSocket server at the Playground's stream path; the test sends through it."""
    clients = Clients([], asyncio.Event())

    async def stream(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        clients.connected.append(ws)
        clients.arrived.set()
        async for _ in ws:
            pass
        return ws

    app = web.Application()
    app.router.add_get(STREAM_PATH, stream)
    server = TestServer(app)
    await server.start_server()
    yield server, clients
    await server.close()


@dataclass
class Clients:
    connected: list[web.WebSocketResponse]
    arrived: asyncio.Event


def _frame(action: str, conversation: str, message_id: str) -> dict[str, Any]:
    message = {"messageId": message_id, "text": f"message {message_id}"}
    return {"action": action, "actionConversationId": conversation, "message": message}


async def test_waiting_finds_events_after_the_mark_even_if_they_came_before_the_wait(
    playground: tuple[TestServer, Clients],
) -> None:
    server, clients = playground
    async with aiohttp.ClientSession() as session:
        events = EventStream(await session.ws_connect(server.make_url(STREAM_PATH)))
        await clients.arrived.wait()
        client = clients.connected[0]
        await client.send_json(_frame("createMessage", "c", "stale"))
        assert [e.message_id for e in await events.settle(quiet=0.2)] == ["stale"]

        await client.send_json({"action": "typing", "actionConversationId": "c"})
        await client.send_json(_frame("createMessage", "c", "2"))
        await client.send_json(_frame("updateMessage", "c", "2"))
        await asyncio.sleep(0.1)
        edit = await events.wait_for(
            lambda e: e.action == "updateMessage", within=1, what="an edit"
        )
        missing = r"no a third within 0.2 s; events:\n  createMessage in c"
        with pytest.raises(TimeoutError, match=missing):
            await events.wait_for(lambda e: e.message_id == "3", within=0.2, what="a third")
        await events.close()

    assert edit.message_id == "2"
    assert [e.action for e in events.since_mark()] == ["createMessage", "updateMessage"]
