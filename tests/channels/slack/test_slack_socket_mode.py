"""The bot in Socket Mode (no public URL): slack_sdk's Socket Mode client connects to the
local Slack's WebSocket (apps.connections.open with the app-level token), envelopes are
acknowledged and answered the same way as in HTTP mode
(docs.slack.dev/apis/events-api/using-socket-mode)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import create_app
from bot.settings import Settings
from bot.web import STORE
from tests.channels.teams.conftest import MakeClient
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url
from tests.support.slack import FakeSlack
from tests.support.slack_requests import SlackRequests

ALERTS, ADMIN = "C0ALERTS01", "U0ADMIN001"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def test_socket_mode_subscribes_a_channel_and_answers_the_slash_command(
    aiohttp_client: MakeClient, tmp_path: Path, fake_slack: FakeSlack
) -> None:
    settings = Settings(
        _env_file=None,
        database_url=sqlite_url(tmp_path / "alertbot.db"),
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        slack_bot_token=SecretStr(fake_slack.state.bot_token),
        slack_app_token=SecretStr(fake_slack.state.app_token),
        slack_mode="socket",
        slack_api_url=fake_slack.api_url,
        slack_admin_user_ids=(ADMIN,),
    )
    client = await aiohttp_client(create_app(settings))
    # No HTTP route in Socket Mode: nothing to forge.
    assert (await client.post("/slack/events", data=b"{}")).status in (404, 405)
    hub = fake_slack.socket_mode
    await hub.wait_connected()
    requests = SlackRequests(signing_secret="unused in socket mode")

    mention = requests.event_callback(requests.app_mention(ADMIN, ALERTS, "subscribe all"))
    envelope = await hub.push("events_api", mention)
    await hub.wait_for_ack(envelope)
    async with asyncio.timeout(20):
        while True:
            replies = [
                m for m in fake_slack.state.messages_in(ALERTS, include_replies=True) if m.thread_ts
            ]
            if replies:
                break
            await asyncio.sleep(0.05)
    assert "now hears about" in replies[0].text
    assert await client.app[STORE].list_subscriptions(f"slack:T0TEAM0001:{ALERTS}")

    url = fake_slack.response_urls.issue(ALERTS, None, ADMIN)
    command = requests.slash_command(
        command="/entra", text="subscriptions", user=ADMIN, channel=ALERTS, response_url=url
    )
    envelope = await hub.push("slash_commands", command)
    ack = await hub.wait_for_ack(envelope)
    assert ack is not None
    async with asyncio.timeout(20):
        while True:
            posted = [m for m in fake_slack.state.messages_in(ALERTS) if m.via != "api"]
            if posted:
                break
            await asyncio.sleep(0.05)
    assert "Subscriptions" in json.dumps(posted[-1].blocks)
