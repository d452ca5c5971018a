"""The fake's Socket Mode with the real slack-bolt AsyncSocketModeHandler (slack_sdk's
aiohttp Socket Mode client): it opens a connection with the app-level token, gets
`hello`, receives envelopes and acknowledges them by envelope_id.

Follows docs.slack.dev/apis/events-api/using-socket-mode (apps.connections.open, hello,
envelopes with envelope_id / accepts_response_payload, acks with an optional payload,
disconnect with reason refresh_requested) and
docs.slack.dev/reference/methods/apps.connections.open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack import FakeSlack
from tests.support.slack_requests import SlackRequests, button

ALERTS = "C0ALERTS01"


@pytest.fixture
async def bolt(fake_slack: FakeSlack) -> AsyncIterator[tuple[AsyncApp, AsyncSocketModeHandler]]:
    client = AsyncWebClient(token=fake_slack.state.bot_token, base_url=fake_slack.api_url)
    app = AsyncApp(client=client, signing_secret="unused-in-socket-mode")
    handler = AsyncSocketModeHandler(app, fake_slack.state.app_token)
    await handler.connect_async()
    await fake_slack.socket_mode.wait_connected()
    yield app, handler
    await handler.close_async()


async def test_events_are_acked_and_the_listener_posts(
    fake_slack: FakeSlack, bolt: tuple[AsyncApp, AsyncSocketModeHandler]
) -> None:
    app, _ = bolt
    seen: list[str] = []

    @app.event("app_mention")
    async def mentioned(event: dict[str, Any], say: Any) -> None:
        seen.append(event["text"])
        await say(text="On it", thread_ts=event["ts"])

    requests = SlackRequests(signing_secret="unused")
    mention = requests.app_mention("U0ADMIN001", ALERTS, "status")
    envelope_id = await fake_slack.socket_mode.push("events_api", requests.event_callback(mention))

    ack = await fake_slack.socket_mode.wait_for_ack(envelope_id)
    await _until(lambda: bool(fake_slack.state.replies_to(ALERTS, mention["ts"])))

    assert ack.payload is None or ack.payload == {}
    assert seen == [f"<@{fake_slack.state.bot_user_id}> status"]
    [reply] = fake_slack.state.replies_to(ALERTS, mention["ts"])
    assert reply.text == "On it"
    assert fake_slack.socket_mode.sent[0]["accepts_response_payload"] is False
    assert fake_slack.state.calls_to("apps.connections.open")[0].token == fake_slack.state.app_token


async def test_slash_command_ack_carries_the_response_payload(
    fake_slack: FakeSlack, bolt: tuple[AsyncApp, AsyncSocketModeHandler]
) -> None:
    app, _ = bolt

    @app.command("/entra")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"You asked: {command['text']}")

    requests = SlackRequests(signing_secret="unused")
    url = fake_slack.response_urls.issue(ALERTS, None, "U0READ0001")
    fields = requests.slash_command(
        command="/entra", text="list rules", user="U0READ0001", channel=ALERTS, response_url=url
    )
    envelope_id = await fake_slack.socket_mode.push("slash_commands", fields)

    ack = await fake_slack.socket_mode.wait_for_ack(envelope_id)

    assert fake_slack.socket_mode.sent[-1]["accepts_response_payload"] is True
    assert ack.payload == {"text": "You asked: list rules"}


async def test_block_action_is_acked_then_answered_through_response_url(
    fake_slack: FakeSlack,
    bolt: tuple[AsyncApp, AsyncSocketModeHandler],
    slack_client: AsyncWebClient,
) -> None:
    app, _ = bolt

    @app.action("alert.ack")
    async def acknowledge(ack: Any, respond: Any, body: dict[str, Any]) -> None:
        await ack()
        await respond(text=f"Acknowledged by <@{body['user']['id']}>", replace_original=True)

    posted = await slack_client.chat_postMessage(channel=ALERTS, text="Fired")
    requests = SlackRequests(signing_secret="unused")
    payload = requests.block_actions(
        user="U0ADMIN001",
        channel=ALERTS,
        message=posted["message"],
        action=button("alert.ack", "alert-42", "Acknowledge"),
        response_url=fake_slack.response_urls.issue(ALERTS, posted["ts"], "U0ADMIN001"),
    )
    envelope_id = await fake_slack.socket_mode.push("interactive", payload)

    await fake_slack.socket_mode.wait_for_ack(envelope_id)
    await _until(lambda: bool(fake_slack.state.messages_in(ALERTS)[0].edits))

    assert fake_slack.state.messages_in(ALERTS)[0].text == "Acknowledged by <@U0ADMIN001>"


async def test_disconnect_makes_the_client_reconnect_with_a_new_url(
    fake_slack: FakeSlack, bolt: tuple[AsyncApp, AsyncSocketModeHandler]
) -> None:
    await fake_slack.socket_mode.disconnect("refresh_requested")

    await _until(lambda: len(fake_slack.state.calls_to("apps.connections.open")) == 2)
    await fake_slack.socket_mode.wait_connected()
    app, _ = bolt
    handled = asyncio.Event()

    @app.event("app_uninstalled")
    async def uninstalled() -> None:
        handled.set()

    requests = SlackRequests(signing_secret="unused")
    await _until(lambda: len(fake_slack.socket_mode.connections) == 1)
    envelope_id = await fake_slack.socket_mode.push(
        "events_api", requests.event_callback(requests.app_uninstalled())
    )
    await fake_slack.socket_mode.wait_for_ack(envelope_id)
    await asyncio.wait_for(handled.wait(), 5)


async def _until(condition: Any, within: float = 5.0) -> None:
    """Poll the fake's state (it has no change notifications) until `condition()` holds."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)
