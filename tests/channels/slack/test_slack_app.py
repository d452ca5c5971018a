"""The whole bot as `alertbot serve` builds it, with Slack in HTTP mode, driven with signed
Slack requests (tests/support/slack_requests.py, built as Slack signs them:
docs.slack.dev/authentication/verifying-requests-from-slack) against the local stateful
Slack Web API (tests/support/slack), and Teams against the fake Bot Connector.

A Slack channel and a Teams channel subscribe; a rule fires; one alert reaches both;
Acknowledge in Slack edits the Slack message in place and the Teams card; Snooze (the
select) and Resolve; a non-admin is refused; bad signatures, stale timestamps and Slack's
retries; a removed channel is pruned."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from bot.app import create_app
from bot.models import AlertEventKind, AlertStatus, OutboxStatus
from bot.settings import Settings
from bot.store import Store
from bot.web import RULES, STORE
from tests.channels.teams.conftest import CHANNEL, USER_AAD, MakeClient, channel, message
from tests.channels.teams.fake_connector import FakeConnector
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url
from tests.support.slack import FakeSlack
from tests.support.slack_requests import SlackRequests, button, select

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALERTS = "C0ALERTS01"
ADMIN, READER = "U0ADMIN001", "U0READ0001"
SLACK_CONVERSATION = f"slack:T0TEAM0001:{ALERTS}"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def settings(tmp_path: Path, slack: FakeSlack) -> Settings:
    return Settings(
        _env_file=None,
        database_url=sqlite_url(tmp_path / "alertbot.db"),
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        admin_object_ids=(USER_AAD,),
        slack_bot_token=SecretStr(slack.state.bot_token),
        slack_signing_secret=SecretStr(SECRET),
        slack_mode="http",
        slack_api_url=slack.api_url,
        slack_admin_usergroup_ids=("S0ADMINS01",),
    )


async def eventually(check: Callable[[], Any], *, seconds: float = 20.0) -> Any:
    async with asyncio.timeout(seconds):
        while True:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.05)


class Harness:
    def __init__(self, client: Any, slack: FakeSlack) -> None:
        self.client = client
        self.slack = slack
        self.requests = SlackRequests(signing_secret=SECRET)
        self.store: Store = client.app[STORE]

    async def post(self, signed: Any) -> aiohttp.ClientResponse:
        response = await self.client.post("/slack/events", data=signed.body, headers=signed.headers)
        return response  # type: ignore[no-any-return]

    async def mention(self, user: str, text: str, **options: Any) -> aiohttp.ClientResponse:
        event = self.requests.app_mention(user, ALERTS, text)
        return await self.post(
            self.requests.signed_json(self.requests.event_callback(event), **options)
        )

    def top_level(self) -> list[Any]:
        return self.slack.state.messages_in(ALERTS)

    def alert_message(self) -> Any:
        return next(m for m in self.top_level() if m.blocks and m.blocks[0]["type"] == "header")

    async def press(self, user: str, action: dict[str, Any]) -> aiohttp.ClientResponse:
        posted = self.alert_message()
        url = self.slack.response_urls.issue(ALERTS, posted.ts, user)
        payload = self.requests.block_actions(
            user=user,
            channel=ALERTS,
            message=posted.to_json(team_id=self.slack.state.team_id),
            action=action,
            response_url=url,
        )
        return await self.post(self.requests.signed_interaction(payload))

    async def sent(self, conversation: str, kind: AlertEventKind, count: int = 1) -> None:
        async def check() -> bool:
            items = await self.store.list_outbox(conversation_id=conversation)
            done = [i for i in items if i.event.kind is kind and i.status is OutboxStatus.SENT]
            return len(done) >= count

        async with asyncio.timeout(20):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.05)


def element(message: Any, action_id: str) -> dict[str, Any]:
    return next(
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )


@pytest.fixture
async def harness(aiohttp_client: MakeClient, tmp_path: Path, fake_slack: FakeSlack) -> Harness:
    client = await aiohttp_client(create_app(settings(tmp_path, fake_slack)))
    return Harness(client, fake_slack)


async def test_one_alert_in_slack_and_teams_acknowledged_from_slack(
    harness: Harness, fake: FakeConnector, service_url: str
) -> None:
    slack = harness.slack.state
    # Subscribe from the Slack channel (an admin by user group) and from a Teams channel.
    assert (await harness.mention(ADMIN, "subscribe all")).status == 200
    answer = await eventually(
        lambda: [m for m in slack.messages_in(ALERTS, include_replies=True) if m.thread_ts]
    )
    assert "now hears about" in answer[0].text
    response = await harness.client.post(
        "/api/messages", json=message(service_url, "subscribe all", **channel())
    )
    assert response.status == 200
    await eventually(lambda: fake.calls)

    # A rule fires: one alert, posted to both.
    await harness.mention(ADMIN, "run provisioning-failure-spike")
    await harness.sent(SLACK_CONVERSATION, AlertEventKind.FIRED)
    await harness.sent(CHANNEL, AlertEventKind.FIRED)
    posted = harness.alert_message()
    [alert] = await harness.store.list_alerts(open_only=True)
    rule = harness.client.app[RULES].get(alert.rule_id)
    assert posted.blocks[0]["text"]["text"].endswith(rule.title)
    assert [alert.id] == [a.id for a in await harness.store.list_alerts()]

    # Acknowledge in Slack: acked at once, the message edited in place, the Teams card too.
    started = time.monotonic()
    response = await harness.press(
        ADMIN, button("alert.ack", element(posted, "alert.ack")["value"], "Acknowledge")
    )
    assert response.status == 200
    assert time.monotonic() - started < 3.0
    await eventually(lambda: harness.alert_message().edits)
    edited = harness.alert_message()
    assert "Acknowledged" in json.dumps(edited.blocks)
    assert "alert.ack" not in json.dumps(edited.blocks)
    await harness.sent(CHANNEL, AlertEventKind.UPDATED)
    [update] = fake.of_kind("update")
    assert "Acknowledged by" in json.dumps(update.card)
    assert (await harness.store.get_alert(alert.id)).status is AlertStatus.ACKNOWLEDGED  # type: ignore[union-attr]
    assert len(await harness.store.list_alerts()) == 1  # one alert on both sides

    # Snooze through the select, then resolve.
    snooze = element(harness.alert_message(), "alert.snooze")
    one_hour = snooze["options"][0]
    await harness.press(ADMIN, select("alert.snooze", one_hour["value"], one_hour["text"]["text"]))
    await eventually(lambda: "*Snoozed* until" in json.dumps(harness.alert_message().blocks))
    resolve = element(harness.alert_message(), "alert.resolve")
    await harness.press(ADMIN, button("alert.resolve", resolve["value"], "Resolve"))
    await eventually(lambda: "*Resolved*" in json.dumps(harness.alert_message().blocks))
    assert (await harness.store.get_alert(alert.id)).status is AlertStatus.RESOLVED  # type: ignore[union-attr]


async def test_a_reader_is_refused_politely_and_nothing_changes(harness: Harness) -> None:
    await harness.mention(ADMIN, "subscribe all")
    await harness.mention(ADMIN, "run provisioning-failure-spike")
    await harness.sent(SLACK_CONVERSATION, AlertEventKind.FIRED)
    posted = harness.alert_message()
    await harness.press(
        READER, button("alert.ack", element(posted, "alert.ack")["value"], "Acknowledge")
    )
    refusal = await eventually(lambda: harness.slack.state.ephemerals)
    assert refusal[0].user == READER
    assert "alert admins" in refusal[0].text or "admin" in refusal[0].text
    [alert] = await harness.store.list_alerts(open_only=True)
    assert alert.status is AlertStatus.FIRING
    audit = await harness.store.list_audit()
    assert any(e.actor == READER and "refused" in (e.detail or "") for e in audit)


async def test_bad_signatures_stale_requests_and_retries(harness: Harness) -> None:
    event = harness.requests.event_callback(
        harness.requests.app_mention(ADMIN, ALERTS, "help"), event_id="Ev0RETRY01"
    )
    forged = harness.requests.signed_json(event).with_headers(
        **{"X-Slack-Signature": "v0=" + "0" * 64}
    )
    assert (await harness.post(forged)).status == 401
    stale = harness.requests.signed_json(event, timestamp=int(time.time()) - 600)
    assert (await harness.post(stale)).status == 401
    assert (await harness.post(harness.requests.signed_json(event))).status == 200
    retry = harness.requests.signed_json(event, retry_num=1, retry_reason="http_timeout")
    assert (await harness.post(retry)).status == 200
    await eventually(lambda: harness.slack.state.messages_in(ALERTS, include_replies=True))
    await asyncio.sleep(0.5)
    answers = [m for m in harness.slack.state.messages_in(ALERTS, include_replies=True) if m.bot_id]
    assert len(answers) == 1  # the retry was acknowledged and not answered again


async def test_a_removed_channel_is_pruned(harness: Harness) -> None:
    await harness.mention(ADMIN, "subscribe all")
    await eventually(lambda: harness.slack.state.messages_in(ALERTS, include_replies=True))
    assert await harness.store.get_conversation(SLACK_CONVERSATION) is not None
    left = harness.requests.member_left_channel(harness.slack.state.bot_user_id, ALERTS)
    assert (
        await harness.post(harness.requests.signed_json(harness.requests.event_callback(left)))
    ).status == 200
    async with asyncio.timeout(10):
        while True:
            if await harness.store.get_conversation(SLACK_CONVERSATION) is None:
                break
            await asyncio.sleep(0.05)
    assert await harness.store.list_subscriptions(SLACK_CONVERSATION) == []


async def test_another_workspace_is_refused(harness: Harness) -> None:
    other = SlackRequests(signing_secret=SECRET, team_id="T0OTHER001")
    event = other.event_callback(other.app_mention(ADMIN, ALERTS, "subscribe all"))
    assert (await harness.post(other.signed_json(event))).status == 200
    await asyncio.sleep(0.5)
    assert await harness.store.get_conversation(f"slack:T0OTHER001:{ALERTS}") is None


async def test_a_direct_message_and_the_slash_command_use_the_same_commands(
    harness: Harness,
) -> None:
    im = harness.slack.state.im_with(READER)
    event = harness.requests.message_im(READER, im.id, "rules")
    signed = harness.requests.signed_json(harness.requests.event_callback(event))
    assert (await harness.post(signed)).status == 200
    [answer] = await eventually(
        lambda: [
            m for m in harness.slack.state.messages_in(im.id, include_replies=True) if m.bot_id
        ]
    )
    assert "Alert rules" in json.dumps(answer.blocks)
    assert (await harness.store.get_conversation(f"slack:T0TEAM0001:{im.id}")).kind == "direct"  # type: ignore[union-attr]

    url = harness.slack.response_urls.issue(ALERTS, None, READER)
    command = harness.requests.slash_command(
        command="/entra", text="subscribe all", user=READER, channel=ALERTS, response_url=url
    )
    response = await harness.post(harness.requests.signed_form(command))
    assert response.status == 200
    refused = await eventually(
        lambda: [m for m in harness.slack.state.messages_in(ALERTS) if m.via != "api"]
    )
    assert "admin" in refused[0].text
    assert await harness.store.list_subscriptions(SLACK_CONVERSATION) == []
