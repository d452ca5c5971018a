"""A notice to the affected person in Slack, end to end: the whole bot as `alertbot serve`
builds it (Slack in HTTP mode, notices on), the local stateful Slack Web API
(tests/support/slack) and signed interactivity requests (tests/support/slack_requests.py,
docs.slack.dev/reference/interaction-payloads/block_actions-payload).

No Teams chat reaches Alex, so the notice arrives as a Slack DM; someone else pressing its
button is refused (audited, nothing changes); Alex pressing "This wasn't me" raises the
alert in the channel subscribed to Account security and the DM changes in place. "This
was me" pressed on the DM as it was before another event joined the notice is not
recorded: the DM shows every event and Alex is asked (ephemerally) to look again."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import messages
from bot.app import create_app
from bot.models import AlertEventKind
from bot.notices.intake import notice_delivery
from bot.notices.model import Answer, Notice
from bot.settings import Settings
from bot.store import Store
from bot.web import CLOCK, DISPATCHER, STORE
from tests.cards.samples import sample_notice
from tests.channels.slack.test_slack_app import (
    ADMIN,
    ALERTS,
    READER,
    SECRET,
    SLACK_CONVERSATION,
    _clean_environment,  # noqa: F401 - an autouse fixture, used here too
    eventually,
)
from tests.channels.slack.test_slack_app import settings as app_settings
from tests.channels.teams.conftest import MakeClient
from tests.notices.test_notices_answers import JOINED
from tests.support.slack import FakeSlack
from tests.support.slack_requests import SlackRequests, button

ALEX_SLACK = "U0ALEX0001"


def settings(tmp_path: Path, slack: FakeSlack) -> Settings:
    """The Slack app's settings, with notices on and no Entra admins."""
    return app_settings(tmp_path, slack).model_copy(
        update={"admin_object_ids": (), "notices_enabled": True}
    )


class Bot:
    def __init__(self, client: Any, slack: FakeSlack) -> None:
        self.client = client
        self.slack = slack
        self.requests = SlackRequests(signing_secret=SECRET)
        self.store: Store = client.app[STORE]

    async def post(self, signed: Any) -> aiohttp.ClientResponse:
        response = await self.client.post("/slack/events", data=signed.body, headers=signed.headers)
        return response  # type: ignore[no-any-return]

    async def mention(self, user: str, text: str) -> None:
        event = self.requests.app_mention(user, ALERTS, text)
        assert (
            await self.post(self.requests.signed_json(self.requests.event_callback(event)))
        ).status == 200

    def dm(self) -> Any:
        (message,) = self.slack.state.messages_in(self.slack.state.im_with(ALEX_SLACK).id)
        return message

    def screen(self) -> dict[str, Any]:
        """The DM as the person's screen shows it now (a copy: later edits do not reach it)."""
        return copy.deepcopy(self.dm().to_json(team_id=self.slack.state.team_id))

    async def press(
        self, user: str, action_id: str, *, screen: dict[str, Any] | None = None
    ) -> None:
        """`user` presses the button on the DM as `screen` shows it (default: as it is)."""
        dm = self.dm()
        message = screen or self.screen()
        element = next(
            e
            for b in message["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == action_id
        )
        url = self.slack.response_urls.issue(dm.channel, dm.ts, user)
        payload = self.requests.block_actions(
            user=user,
            channel=dm.channel,
            message=message,
            action=button(action_id, element["value"], element["text"]["text"]),
            response_url=url,
            channel_name="directmessage",
        )
        assert (await self.post(self.requests.signed_interaction(payload))).status == 200


@pytest.fixture
async def bot(aiohttp_client: MakeClient, tmp_path: Path, fake_slack: FakeSlack) -> Bot:
    fake_slack.state.add_user(
        ALEX_SLACK, "alex", real_name="Alex Wilber", email="alexw@contoso.example"
    )
    client = await aiohttp_client(create_app(settings(tmp_path, fake_slack)))
    return Bot(client, fake_slack)


async def delivered(bot: Bot, events: int) -> Notice:
    """A notice of `events` events for Alex, delivered as a Slack DM."""
    now = bot.client.app[CLOCK]()
    notice = sample_notice(events=events, created_at=now)
    await bot.store.add_notice(notice)
    await bot.store.enqueue([notice_delivery(notice, now)])
    bot.client.app[DISPATCHER].wake()
    im = bot.slack.state.im_with(ALEX_SLACK)
    dm = await eventually(lambda: bot.slack.state.messages_in(im.id))
    assert "Reset user password" in json.dumps(dm[0].blocks)
    await until(lambda: _delivered_via(bot, notice.id, "slack"))  # recorded after the post
    stored = await bot.store.get_notice(notice.id)
    assert stored is not None
    return stored


async def test_a_notice_reaches_alex_in_slack_and_only_alex_answers_it(bot: Bot) -> None:
    await bot.mention(ADMIN, "subscribe Account security")
    await eventually(lambda: bot.slack.state.messages_in(ALERTS, include_replies=True))
    notice = await delivered(bot, events=1)

    # Someone else's click (a forwarded or forged payload): refused, audited, nothing changes.
    await bot.press(READER, "notice.not_me")
    await until(lambda: _audited(bot, "notice.refused"))
    unchanged = await bot.store.get_notice(notice.id)
    assert unchanged is not None
    assert unchanged.answer is None
    assert bot.dm().edits == []
    assert await bot.store.list_alerts() == []

    # Alex: the alert is raised for the security channel, and the DM says what was noted.
    await bot.press(ALEX_SLACK, "notice.not_me")
    edited = await eventually(lambda: bot.dm().edits and bot.dm())
    blocks = json.dumps(edited.blocks)
    assert "You said this wasn't you." in blocks
    assert "Noted at <!date^" in blocks
    assert "notice.not_me" not in blocks
    answered = await bot.store.get_notice(notice.id)
    assert answered is not None
    assert answered.answer is Answer.NOT_ME
    (alert,) = await bot.store.list_alerts()
    assert alert.id == answered.alert_id
    assert alert.dimensions["Person"] == "alexw@contoso.example"
    await until(lambda: _sent(bot, AlertEventKind.FIRED))
    posted = [m for m in bot.slack.state.messages_in(ALERTS) if m.blocks]
    assert any(m.blocks[0]["type"] == "header" for m in posted)
    assert await _audited(bot, "notice.not_me")


async def test_this_was_me_on_a_dm_shown_before_another_event_joined_is_asked_again(
    bot: Bot,
) -> None:
    notice = await delivered(bot, events=2)
    screen = bot.screen()  # Alex's screen: the two events
    # A third event joins; its chat.update has not reached Alex's screen yet.
    assert await bot.store.add_notice_events(notice.id, [JOINED]) is not None

    await bot.press(ALEX_SLACK, "notice.was_me", screen=screen)
    (told,) = await eventually(lambda: bot.slack.state.ephemerals)
    assert (told.user, told.text) == (ALEX_SLACK, messages.notice_changed())
    refreshed = bot.dm()  # edited in place (before the ephemeral line): every event, asking
    assert len(refreshed.edits) == 1
    blocks = json.dumps(refreshed.blocks)
    assert "User deleted security info" in blocks
    assert "Was this you?" in blocks
    assert '\\"events_shown\\":3' in blocks
    unanswered = await bot.store.get_notice(notice.id)
    assert unanswered is not None
    assert unanswered.answer is None
    assert await _audited(bot, "notice.stale")

    await bot.press(ALEX_SLACK, "notice.was_me")  # on the DM as it shows now
    await until(lambda: _audited(bot, "notice.was_me"))
    answered = await bot.store.get_notice(notice.id)
    assert answered is not None
    assert answered.answer is Answer.WAS_ME
    # The DM is edited after the answer is recorded (and audited): wait for it.
    assert await eventually(lambda: "you said this was you" in json.dumps(bot.dm().blocks))
    assert await bot.store.list_alerts() == []


async def until(check: Callable[[], Awaitable[bool]], *, seconds: float = 20.0) -> None:
    async with asyncio.timeout(seconds):
        while True:
            if await check():
                return
            await asyncio.sleep(0.05)


async def _audited(bot: Bot, action: str) -> bool:
    return any(e.action == action for e in await bot.store.list_audit())


async def _sent(bot: Bot, kind: AlertEventKind) -> bool:
    items = await bot.store.list_outbox(conversation_id=SLACK_CONVERSATION)
    return any(i.event.kind is kind and i.status.value == "sent" for i in items)


async def _delivered_via(bot: Bot, notice_id: str, via: str) -> bool:
    notice = await bot.store.get_notice(notice_id)
    return notice is not None and notice.delivered_via == via
