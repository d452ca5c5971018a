"""A later event for a person who had enough notices this hour: it joins their latest
*unanswered* notice, and when that notice was delivered the person's message is brought
up to date (Teams: the card's activity updated; Slack: chat.update of the DM; email: one
follow-up with the added events). An answered notice takes no events: a new notice asks.

Real parts as in test_notices_delivery.py and test_notices_slack.py: the demo workspace
(a later audit record planted in its AuditLogs between two runs of the catalog's rule),
SQLite and PostgreSQL, the Bot Connector of tests/channels/teams/fake_connector.py (PUT
/v3/conversations/{id}/activities/{id}, connector-api-reference "Update activity"), the
local Slack Web API of tests/support/slack (docs.slack.dev/reference/methods/chat.update)
and the local Graph of tests/support/graph_api.py (user-sendmail.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import duckdb_kql
import pytest
from aiohttp.test_utils import TestServer
from azure.identity.aio import ManagedIdentityCredential

from bot.alerts.rule_model import Rule
from bot.channels.slack import SlackChannel
from bot.channels.teams import BotIdentity, TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.models import AlertEventKind, OutboxItem
from bot.notice_wiring import NoticeParts, notice_reaches
from bot.notices.delivery import NoticeNotifier, Reach, Reached, Unreachable
from bot.notices.graph import GraphClient
from bot.notices.intake import Intake, NoticeIntake, NoticePolicy
from bot.notices.model import Answer, Notice
from bot.notify import DeliveryResult, RecordingNotifier
from bot.settings import Settings
from bot.store.sql import SqlStore
from bot.views.notice import NoticeView
from bot.workspace.demo import DemoSpec, load_demo
from bot.workspace.local import LocalWorkspace
from tests.channels.teams.fake_connector import FakeConnector
from tests.notices.conftest import ALEX_ID, ALEX_UPN, NOW
from tests.notices.test_notices_delivery import CHANNEL, SENDER, channel_ref
from tests.support.entra_tokens import managed_identity_env
from tests.support.graph_api import FakeGraph
from tests.support.slack import FakeSlack

ALEX_SLACK = "U0ALEX0001"
LATER = "later-deleted-method"
#: One notice an hour: the later event cannot have a notice of its own.
ONE_AN_HOUR = NoticePolicy(pilot_users=frozenset({ALEX_ID}), per_person_per_hour=1)


@dataclass
class World:
    store: SqlStore
    connector: FakeConnector
    graph: FakeGraph
    slack: FakeSlack
    intake: NoticeIntake
    rule: Rule
    planted: Planted
    reaches: list[Reach]
    notifier: NoticeNotifier

    async def run_rule(self, minutes: int) -> Intake:
        return await self.intake.evaluate(self.rule, now=NOW + timedelta(minutes=minutes))

    async def deliver_due(self, minutes: int) -> list[tuple[OutboxItem, DeliveryResult]]:
        """Claim what is due and deliver it, as the dispatcher does."""
        items = await self.store.claim_due(
            worker="w", now=NOW + timedelta(minutes=minutes), lease=timedelta(minutes=1)
        )
        done = []
        for item in items:
            result = await self.notifier.deliver(item)
            if result.outcome == "sent":
                await self.store.mark_sent(item.id, message_id=result.message_id)
            done.append((item, result))
        return done

    async def notice(self, notice_id: str) -> Notice:
        found = await self.store.get_notice(notice_id)
        assert found is not None
        return found


@pytest.fixture(scope="module")
def demo_tables() -> Iterator[Any]:
    """The demo's tables, which the tests here add a record to."""
    con = duckdb_kql.connect()
    load_demo(con, DemoSpec(now=NOW))
    yield con
    con.close()


@pytest.fixture
def planted(demo_tables: Any) -> Iterator[Planted]:
    """The demo workspace; the later record is removed again afterwards."""
    yield Planted(LocalWorkspace(demo_tables, clock=lambda: NOW), demo_tables)
    demo_tables.execute("DELETE FROM raw.AuditLogs WHERE Id = ?", [LATER])


@dataclass
class Planted:
    workspace: LocalWorkspace
    tables: Any

    def later_event(self, copied: str) -> None:
        """Three minutes after the planted pair, a method of Alex's is deleted (a copy of
        their `copied` record with another id, time and activity)."""
        self.tables.execute(
            "INSERT INTO raw.AuditLogs SELECT * REPLACE (? AS Id, "
            "TIMESTAMP '2026-03-02 11:59:00' AS TimeGenerated, "
            "'User deleted security info' AS ActivityDisplayName) "
            "FROM raw.AuditLogs WHERE Id = ?",
            [LATER, copied],
        )


@pytest.fixture
async def world(
    store: SqlStore,
    fake_graph: FakeGraph,
    fake_slack: FakeSlack,
    planted: Planted,
    rule: Rule,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[World]:
    fake_graph.state.add_user(ALEX_ID, ALEX_UPN, "Alex Wilber", mail="alex.wilber@contoso.example")
    fake_slack.state.add_user(ALEX_SLACK, "alex", real_name="Alex Wilber", email=ALEX_UPN)
    for name, value in managed_identity_env(fake_graph.base_url, fake_graph.tokens).items():
        monkeypatch.setenv(name, value)
    connector = FakeConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    credential = ManagedIdentityCredential()
    graph = GraphClient(credential, endpoint=fake_graph.endpoint)
    slack = SlackChannel(
        bot_token=fake_slack.state.bot_token, signing_secret=None, api_url=fake_slack.api_url
    )
    try:
        await store.upsert_conversation(channel_ref(str(server.make_url("/"))))
        reaches = list(
            notice_reaches(
                Settings(_env_file=None, notices_enabled=True, notices_mail_sender=SENDER),
                NoticeParts(graph=graph),
                teams=TeamsChannel(BotIdentity()),
                store=store,
                renderer=CardRenderer(),
                clock=lambda: NOW,
                chat=[slack.notice_reach(store=store, clock=lambda: NOW)],
            )
        )
        notifier = NoticeNotifier(
            others=RecordingNotifier(),
            reaches=reaches,
            store=store,
            rules=lambda: [rule],
            clock=lambda: NOW,
        )
        intake = NoticeIntake(store=store, workspace=planted.workspace, policy=ONE_AN_HOUR)
        yield World(
            store, connector, fake_graph, fake_slack, intake, rule, planted, reaches, notifier
        )
    finally:
        await slack.aclose()
        await graph.close()
        await credential.close()
        await server.close()


async def first_notice_delivered(world: World) -> Notice:
    """The planted pair's notice, delivered; then the later event is planted."""
    (notice,) = (await world.run_rule(0)).new_notices
    ((item, result),) = await world.deliver_due(1)
    assert (item.event.kind, result.outcome) == (AlertEventKind.NOTICE, "sent")
    delivered = await world.notice(notice.id)
    assert delivered.told_events == 2
    world.planted.later_event(notice.events[-1].record_id)
    return delivered


def personal_chat_sends(world: World) -> list[Any]:
    return [c for c in world.connector.of_kind("send") if c.conversation_id != CHANNEL]


async def test_events_joining_a_delivered_teams_notice_update_the_same_message(
    world: World,
) -> None:
    world.connector.installed_for.add(ALEX_ID)
    notice = await first_notice_delivered(world)
    assert notice.delivered_via == "teams-create"
    later = await world.run_rule(2)
    assert later.new_notices == ()
    assert later.updated_notices == (notice.id,)
    ((item, result),) = await world.deliver_due(3)
    assert (item.event.kind, result.outcome) == (AlertEventKind.NOTICE_UPDATE, "sent")
    assert len(personal_chat_sends(world)) == 1  # no new message
    (update,) = world.connector.of_kind("update")
    assert (update.conversation_id, update.activity_id) == (
        notice.conversation_id,
        notice.message_id,
    )
    card = json.dumps(update.card)
    assert "User deleted security info" in card
    assert "Reset user password" in card
    assert "This wasn't me" in card  # still asking
    assert (await world.notice(notice.id)).told_events == 3
    # The same update delivered again (a crash before the outbox recorded it): nothing.
    assert (await world.notifier.deliver(item)).outcome == "sent"
    assert len(world.connector.of_kind("update")) == 1
    # Re-running the rule: the record is known, nothing is enqueued.
    again = await world.run_rule(4)
    assert (again.already_known, again.new_notices, again.updated_notices) == (3, (), ())
    assert await world.deliver_due(5) == []


async def test_events_joining_a_slack_dm_update_it_with_chat_update(world: World) -> None:
    notice = await first_notice_delivered(world)  # the app is not installed: Slack
    assert notice.delivered_via == "slack"
    await world.run_rule(2)
    ((_, result),) = await world.deliver_due(3)
    assert result.outcome == "sent"
    state = world.slack.state
    (call,) = state.calls_to("chat.update")
    assert call.args["ts"] == notice.message_id
    (dm,) = state.messages_in(state.im_with(ALEX_SLACK).id)
    assert dm.ts == notice.message_id
    assert len(dm.edits) == 1
    assert "User deleted security info" in json.dumps(dm.blocks)
    assert len(state.calls_to("chat.postMessage")) == 1


async def test_an_answered_notice_takes_no_events_a_new_notice_asks(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.notices.intake")
    world.connector.installed_for.add(ALEX_ID)
    notice = await first_notice_delivered(world)
    assert await world.store.answer_notice(
        notice.id, answer=Answer.WAS_ME, at=NOW + timedelta(minutes=1), alert_id=None
    )
    later = await world.run_rule(2)
    (fresh,) = later.new_notices
    assert [e.record_id for e in fresh.events] == [LATER]
    assert later.updated_notices == ()
    assert len((await world.notice(notice.id)).events) == 2
    assert "but all are answered: a new notice" in caplog.text
    ((item, result),) = await world.deliver_due(3)
    assert (item.event.kind, item.event.detail, result.outcome) == (
        AlertEventKind.NOTICE,
        fresh.id,
        "sent",
    )
    sends = personal_chat_sends(world)
    assert len(sends) == 2
    assert "User deleted security info" in json.dumps(sends[-1].card)
    assert world.connector.of_kind("update") == []


async def test_the_latest_unanswered_notice_is_joined_not_an_answered_later_one(
    world: World,
) -> None:
    world.connector.installed_for.add(ALEX_ID)
    notice = await first_notice_delivered(world)
    answered = notice.model_copy(
        update={
            "id": "answered-later",
            "created_at": NOW + timedelta(seconds=30),
            "events": tuple(
                e.model_copy(update={"record_id": f"{e.record_id}-b"}) for e in notice.events
            ),
            "answer": Answer.WAS_ME,
            "answered_at": NOW + timedelta(seconds=40),
        }
    )
    await world.store.add_notice(answered)
    later = await world.run_rule(2)
    assert (later.new_notices, later.updated_notices) == ((), (notice.id,))
    assert [e.record_id for e in (await world.notice(notice.id)).events][-1] == LATER
    assert len((await world.notice(answered.id)).events) == 2


async def test_an_email_notice_gets_one_follow_up_with_the_added_events(world: World) -> None:
    world.slack.state.users[ALEX_SLACK].email = "someone-else@contoso.example"
    notice = await first_notice_delivered(world)
    assert notice.delivered_via == "email"
    await world.run_rule(2)
    ((item, result),) = await world.deliver_due(3)
    assert result.outcome == "sent"
    first, follow_up = world.graph.state.sent
    assert "More changes" in follow_up.message["subject"]
    body = follow_up.message["body"]["content"]
    assert "User deleted security info" in body
    assert "Reset user password" not in body  # only what was added
    assert follow_up.recipients == first.recipients
    # Delivered again, or a second update of the same events: no second follow-up.
    assert (await world.notifier.deliver(item)).outcome == "sent"
    assert len(world.graph.state.sent) == 2
    assert (await world.notice(notice.id)).told_events == 3


async def test_events_joining_while_the_notice_is_being_delivered_are_caught_up(
    world: World,
) -> None:
    world.connector.installed_for.add(ALEX_ID)
    (notice,) = (await world.run_rule(0)).new_notices
    world.planted.later_event(notice.events[-1].record_id)
    joined: list[Intake] = []

    class RuleRunsMidway:
        """A way that fails after the rule ran again: the next way sends the notice as
        it was read before the later event joined it."""

        name = "midway"

        async def send(self, notice: Notice, view: NoticeView) -> Reached:
            joined.append(await world.run_rule(2))
            raise Unreachable("not this way")

        async def update(self, notice: Notice, view: NoticeView) -> None:
            raise AssertionError("never the way that delivered")

    world.notifier = NoticeNotifier(
        others=RecordingNotifier(),
        reaches=[RuleRunsMidway(), *world.reaches],
        store=world.store,
        rules=lambda: [world.rule],
        clock=lambda: NOW,
    )
    ((_, result),) = await world.deliver_due(1)
    assert result.outcome == "sent"
    (intake,) = joined
    assert intake.grouped_into_earlier == 1
    assert intake.updated_notices == ()  # not delivered yet when it joined
    (sent,) = personal_chat_sends(world)
    assert "User deleted security info" not in json.dumps(sent.card)
    ((item, caught_up),) = await world.deliver_due(3)
    assert (item.event.kind, caught_up.outcome) == (AlertEventKind.NOTICE_UPDATE, "sent")
    (update,) = world.connector.of_kind("update")
    assert "User deleted security info" in json.dumps(update.card)
    assert update.activity_id == (await world.notice(notice.id)).message_id
    assert (await world.notice(notice.id)).told_events == 3
