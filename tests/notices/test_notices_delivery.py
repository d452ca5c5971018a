"""Reaching the person: each way in order (Teams 1:1 chat -> Bot Connector create -> Graph
install then chat -> email), each failure logged and the next tried, nothing sent twice.

The Bot Connector is tests/channels/teams/fake_connector.py (its 1:1 create follows
msteams-docs send-proactive-messages.md: only once the app is installed for the person);
Microsoft Graph is tests/support/graph_api.py (userteamwork-post-installedapps.md,
userscopeteamsappinstallation-get-chat.md, user-sendmail.md), with tokens from its
managed-identity endpoint through azure-identity's ManagedIdentityCredential.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from azure.identity.aio import ManagedIdentityCredential

from bot.alerts.rule_model import Rule
from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.models import AlertEventKind, ChannelKind, ConversationRef
from bot.notice_wiring import NoticeParts, notice_reaches
from bot.notices.delivery import NoticeNotifier
from bot.notices.graph import GraphClient
from bot.notices.intake import NoticeIntake, NoticePolicy, notice_delivery
from bot.notices.model import Notice
from bot.notify import RecordingNotifier
from bot.settings import Settings
from bot.store.sql import SqlStore, open_store
from bot.workspace.demo import DemoManifest
from bot.workspace.local import LocalWorkspace
from tests.channels.teams.fake_connector import FakeConnector
from tests.notices.conftest import ALEX_ID, ALEX_UPN, NOW
from tests.support.alerting import sqlite_url
from tests.support.entra_tokens import managed_identity_env
from tests.support.graph_api import MANIFEST_ID, FakeGraph

TENANT = "6f1c2c5e-3b4a-4d8e-9a51-2b7e0c9d4f10"
CHANNEL = "19:security@thread.tacv2"
SENDER = "alerts@contoso.com"


@dataclass
class World:
    store: SqlStore
    connector: FakeConnector
    service_url: str
    graph: FakeGraph
    notifier: NoticeNotifier
    notices: list[Notice]


@pytest.fixture
async def world(
    tmp_path: Path,
    fake_graph: FakeGraph,
    demo: tuple[LocalWorkspace, DemoManifest],
    rule: Rule,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    fake_graph.state.add_user(ALEX_ID, ALEX_UPN, "Alex Wilber", mail="alex.wilber@contoso.example")
    for name, value in managed_identity_env(fake_graph.base_url, fake_graph.tokens).items():
        monkeypatch.setenv(name, value)
    connector = FakeConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    store = await open_store(sqlite_url(tmp_path / "alertbot.db"))
    credential = ManagedIdentityCredential()
    graph = GraphClient(credential, endpoint=fake_graph.endpoint)
    try:
        service_url = str(server.make_url("/"))
        await store.upsert_conversation(channel_ref(service_url))
        intake = NoticeIntake(
            store=store,
            workspace=demo[0],
            policy=NoticePolicy(pilot_users=frozenset({ALEX_ID})),
        )
        done = await intake.evaluate(rule, now=NOW)
        settings = Settings(
            notices_enabled=True,
            notices_teams_app_external_id=MANIFEST_ID,
            notices_mail_sender=SENDER,
        )
        reaches = notice_reaches(
            settings,
            NoticeParts(graph=graph),
            teams=TeamsChannel(BotIdentity()),
            store=store,
            renderer=CardRenderer(),
            clock=lambda: NOW,
        )
        notifier = NoticeNotifier(
            others=RecordingNotifier(),
            reaches=reaches,
            store=store,
            rules=lambda: [rule],
            clock=lambda: NOW,
        )
        yield World(store, connector, service_url, fake_graph, notifier, list(done.new_notices))
    finally:
        await graph.close()
        await credential.close()
        await store.close()
        await server.close()


def channel_ref(service_url: str) -> ConversationRef:
    """The security team's channel, as the bot stored it when it was added there."""
    return ConversationRef(
        conversation_id=CHANNEL,
        channel=ChannelKind.TEAMS,
        kind="channel",
        reference={
            "bot": {"id": "28:bot", "name": "Entra Alerts"},
            "conversation": {"id": CHANNEL, "conversationType": "channel", "isGroup": True},
            "channelId": "msteams",
            "serviceUrl": service_url,
            "channelData": {"tenant": {"id": TENANT}, "channel": {"id": CHANNEL}},
        },
        updated_at=NOW,
    )


async def deliver_once(world: World) -> Any:
    (item,) = await world.store.claim_due(
        worker="w", now=NOW + timedelta(minutes=1), lease=timedelta(minutes=1)
    )
    assert item.event.kind is AlertEventKind.NOTICE
    return item, await world.notifier.deliver(item)


def personal_chat_sends(world: World) -> list[Any]:
    return [c for c in world.connector.of_kind("send") if c.conversation_id != CHANNEL]


async def test_not_installed_the_app_is_installed_with_graph_and_the_chat_used(
    world: World,
) -> None:
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    installs = world.graph.controls.made("installedApps.add")
    assert [r.status for r in installs] == [201]
    (send,) = personal_chat_sends(world)
    assert send.conversation_id is not None
    assert send.conversation_id.endswith(f"_{ALEX_ID}@unq.gbl.spaces")
    assert send.card is not None
    assert "This wasn't me" in str(send.card)
    notice = await world.store.get_notice(world.notices[0].id)
    assert notice is not None
    assert notice.delivered_via == "teams-install"
    # The chat is kept: the next notice goes straight there.
    twin = await _twin(world, notice)
    again = await world.notifier.deliver(notice_delivery(twin, NOW))
    assert again.outcome == "sent"
    stored = await world.store.get_notice(twin.id)
    assert stored is not None
    assert stored.delivered_via == "teams"
    assert len(world.graph.controls.made("installedApps.add")) == 1


async def test_installed_already_the_bot_connector_creates_the_chat(world: World) -> None:
    world.connector.installed_for.add(ALEX_ID)
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    (create,) = world.connector.of_kind("create")
    assert create.body["members"] == [{"id": ALEX_ID}]
    assert create.body["channelData"]["tenant"]["id"] == TENANT
    assert world.graph.controls.made("installedApps.add") == []
    notice = await world.store.get_notice(world.notices[0].id)
    assert notice is not None
    assert notice.delivered_via == "teams-create"


async def test_blocked_bot_falls_back_to_email_without_retrying(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.connector.installed_for.add(ALEX_ID)
    world.connector.fail(403, "MessageWritesBlocked", kind="send", times=2)
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    (mail,) = world.graph.state.sent
    assert mail.recipients == ["alex.wilber@contoso.example"]
    assert "Reset user password" in mail.message["body"]["content"]
    assert "203.0.113.77" in mail.message["body"]["content"]
    assert mail.save_to_sent_items is False
    notice = await world.store.get_notice(world.notices[0].id)
    assert notice is not None
    assert notice.delivered_via == "email"
    assert "they blocked the bot" in caplog.text
    assert "trying the next way" in caplog.text


async def test_chat_fails_then_email(world: World) -> None:
    world.graph.state.denied.add("installedApps.add")  # no TeamsAppInstallation permission
    _, result = await deliver_once(world)
    assert result.outcome == "sent"
    assert len(world.graph.state.sent) == 1
    assert personal_chat_sends(world) == []


async def test_a_redelivery_after_a_crash_sends_nothing_again(world: World) -> None:
    world.connector.installed_for.add(ALEX_ID)
    item, first = await deliver_once(world)
    assert first.outcome == "sent"
    # The process died before the outbox recorded it: the lease expires, it is delivered again.
    second = await world.notifier.deliver(item)
    assert second.outcome == "sent"
    assert len(personal_chat_sends(world)) == 1


async def test_nothing_reaches_them_fails_for_good(world: World) -> None:
    world.graph.state.denied.update({"installedApps.add", "users.sendMail"})
    _, result = await deliver_once(world)
    assert result.outcome == "failed"
    assert result.reason is not None
    assert "email" in result.reason
    assert "teams-install" in result.reason


async def test_throttled_everywhere_is_retried_later(world: World) -> None:
    world.graph.controls.fail_next(429, "TooManyRequests", retry_after=7, times=3)
    _, result = await deliver_once(world)
    assert result.outcome == "retry"
    assert result.delay_seconds == 7


async def _twin(world: World, notice: Notice) -> Notice:
    """The same person's next notice, about other records."""
    events = tuple(e.model_copy(update={"record_id": f"{e.record_id}-2"}) for e in notice.events)
    twin = notice.model_copy(update={"id": "twin", "delivered_via": None, "events": events})
    await world.store.add_notice(twin)
    return twin
