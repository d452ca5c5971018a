"""Reaching the person by Slack: Teams cannot (no 1:1 chat, the app not installed), so the
notice goes as a Slack direct message before email is tried; no Slack user with their
email falls through to email; throttling is retried later; a redelivery sends nothing
again.

Slack is the local stateful Web API (tests/support/slack, after
docs.slack.dev/reference/methods/users.lookupByEmail, conversations.open, chat.postMessage:
`users_not_found`, HTTP 429 `ratelimited` with Retry-After), called by the real slack_sdk
AsyncWebClient; Teams is tests/channels/teams/fake_connector.py, Graph (sendMail)
tests/support/graph_api.py, as in test_notices_delivery.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from azure.identity.aio import ManagedIdentityCredential

from bot.alerts.rule_model import Rule
from bot.channels.slack import SlackChannel
from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.models import AlertEventKind
from bot.notice_wiring import NoticeParts, notice_reaches
from bot.notices.delivery import NoticeNotifier
from bot.notices.graph import GraphClient
from bot.notices.intake import NoticeIntake, NoticePolicy
from bot.notices.model import Notice
from bot.notify import RecordingNotifier
from bot.settings import Settings
from bot.store.sql import SqlStore, open_store
from bot.workspace.demo import DemoManifest
from bot.workspace.local import LocalWorkspace
from tests.channels.teams.fake_connector import FakeConnector
from tests.notices.conftest import ALEX_ID, ALEX_UPN, NOW
from tests.notices.test_notices_delivery import SENDER, channel_ref
from tests.support.alerting import sqlite_url
from tests.support.entra_tokens import managed_identity_env
from tests.support.graph_api import FakeGraph
from tests.support.slack import FakeSlack

ALEX_SLACK = "U0ALEX0001"


@dataclass
class World:
    store: SqlStore
    connector: FakeConnector
    graph: FakeGraph
    slack: FakeSlack
    notifier: NoticeNotifier
    notices: list[Notice]


@pytest.fixture
async def world(
    tmp_path: Path,
    fake_graph: FakeGraph,
    fake_slack: FakeSlack,
    demo: tuple[LocalWorkspace, DemoManifest],
    rule: Rule,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    fake_graph.state.add_user(ALEX_ID, ALEX_UPN, "Alex Wilber", mail="alex.wilber@contoso.example")
    fake_slack.state.add_user(ALEX_SLACK, "alex", real_name="Alex Wilber", email=ALEX_UPN)
    for name, value in managed_identity_env(fake_graph.base_url, fake_graph.tokens).items():
        monkeypatch.setenv(name, value)
    connector = FakeConnector()  # the app is not installed for Alex: no 1:1 chat can be made
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    store = await open_store(sqlite_url(tmp_path / "alertbot.db"))
    credential = ManagedIdentityCredential()
    graph = GraphClient(credential, endpoint=fake_graph.endpoint)
    slack = SlackChannel(
        bot_token=fake_slack.state.bot_token, signing_secret=None, api_url=fake_slack.api_url
    )
    try:
        await store.upsert_conversation(channel_ref(str(server.make_url("/"))))
        intake = NoticeIntake(
            store=store, workspace=demo[0], policy=NoticePolicy(pilot_users=frozenset({ALEX_ID}))
        )
        done = await intake.evaluate(rule, now=NOW)
        reaches = notice_reaches(
            Settings(_env_file=None, notices_enabled=True, notices_mail_sender=SENDER),
            NoticeParts(graph=graph),
            teams=TeamsChannel(BotIdentity()),
            store=store,
            renderer=CardRenderer(),
            clock=lambda: NOW,
            chat=[slack.notice_reach(store=store, clock=lambda: NOW)],
        )
        notifier = NoticeNotifier(
            others=RecordingNotifier(),
            reaches=reaches,
            store=store,
            rules=lambda: [rule],
            clock=lambda: NOW,
        )
        yield World(store, connector, fake_graph, fake_slack, notifier, list(done.new_notices))
    finally:
        await slack.aclose()
        await graph.close()
        await credential.close()
        await store.close()
        await server.close()


async def deliver_once(world: World) -> Any:
    (item,) = await world.store.claim_due(
        worker="w", now=NOW + timedelta(minutes=1), lease=timedelta(minutes=1)
    )
    assert item.event.kind is AlertEventKind.NOTICE
    return item, await world.notifier.deliver(item)


def direct_messages(world: World) -> list[Any]:
    state = world.slack.state
    return [m for c in state.channels.values() if c.is_im for m in state.messages_in(c.id)]


async def test_slack_is_tried_after_teams_and_before_email(world: World) -> None:
    assert world.notifier.ways == ("teams", "teams-create", "slack", "email")


async def test_teams_unreachable_the_notice_arrives_as_a_slack_dm_to_that_person(
    world: World,
) -> None:
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    state = world.slack.state
    (lookup,) = state.calls_to("users.lookupByEmail")
    assert lookup.args["email"] == ALEX_UPN
    im = state.im_with(ALEX_SLACK)
    (dm,) = state.messages_in(im.id)
    assert direct_messages(world) == [dm]
    blocks = json.dumps(dm.blocks)
    assert "Reset user password" in blocks
    assert ALEX_UPN in blocks
    assert '"notice.was_me"' in blocks
    assert '"notice.not_me"' in blocks
    assert "https://mysignins.microsoft.com/security-info" in blocks
    assert "Was this you?" in dm.text
    notice = await world.store.get_notice(world.notices[0].id)
    assert notice is not None
    assert notice.delivered_via == "slack"
    assert notice.conversation_id == f"slack:{state.team_id}:{im.id}"
    assert notice.message_id == dm.ts
    assert world.graph.state.sent == []
    assert world.connector.of_kind("create")  # Teams was tried first
    kept = await world.store.get_conversation(notice.conversation_id)
    assert kept is not None
    assert kept.kind == "direct"


async def test_no_slack_user_with_their_email_falls_through_to_email(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.slack.state.users[ALEX_SLACK].email = "someone-else@contoso.example"
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    assert [c.error for c in world.slack.state.calls_to("users.lookupByEmail")] == [
        "users_not_found"
    ]
    assert direct_messages(world) == []
    assert len(world.graph.state.sent) == 1
    notice = await world.store.get_notice(world.notices[0].id)
    assert notice is not None
    assert notice.delivered_via == "email"
    assert "slack failed: users.lookupByEmail: no Slack user" in caplog.text


async def test_slack_refusing_otherwise_is_logged_and_email_tried(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.slack.controls.fail_next("conversations.open", "restricted_action")
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    assert direct_messages(world) == []
    assert len(world.graph.state.sent) == 1
    assert "restricted_action" in caplog.text


async def test_slack_throttled_and_email_refused_is_retried_after_slacks_wait(
    world: World,
) -> None:
    world.graph.state.denied.add("users.sendMail")
    world.slack.controls.throttle.throttle_next("users.lookupByEmail", retry_after=9)
    _, result = await deliver_once(world)
    assert result.outcome == "retry"
    assert result.delay_seconds == 9
    assert "ratelimited" in (result.reason or "")
    notice = await world.store.get_notice(world.notices[0].id)
    assert notice is not None
    assert notice.delivered_via is None


async def test_a_redelivery_sends_no_second_dm(world: World) -> None:
    item, first = await deliver_once(world)
    assert first.outcome == "sent"
    # The process died before the outbox recorded it: the item is delivered again.
    second = await world.notifier.deliver(item)
    assert second.outcome == "sent"
    assert len(direct_messages(world)) == 1
    assert len(world.slack.state.calls_to("chat.postMessage")) == 1
