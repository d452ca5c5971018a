"""Answering a Teams notice that more events joined after its card was shown, end to end:
the whole bot as `alertbot serve` builds it (create_app, notices on, authentication off as
with the Agents Playground), Alex's 1:1 chat known from a message of theirs, and the Bot
Connector of tests/channels/teams/fake_connector.py (connector-api-reference: "Send to
conversation", "Update activity"; Universal Actions invoke `adaptiveCard/action`).

The card reached Alex with two events; a third joined and its update has not reached
Alex's screen. "This was me" on that card is not recorded: the card is replaced in place
by one with every event and the invoke answers with a short line to look again; pressed
again on the new card it is recorded. "This wasn't me" on the old card is taken: the alert
holds all three events.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot import messages
from bot.app import create_app
from bot.notices.intake import notice_delivery
from bot.notices.model import NOT_ME, WAS_ME, Answer, Notice
from bot.settings import Settings
from bot.store import Store
from bot.web import CLOCK, DISPATCHER, STORE
from tests.cards.conftest import nodes
from tests.cards.samples import sample_notice
from tests.channels.teams.conftest import PERSONAL, MakeClient, card_press, message
from tests.channels.teams.fake_connector import Call, FakeConnector
from tests.notices.conftest import ALEX_ID
from tests.notices.test_notices_answers import JOINED
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url

ALEX = {"id": "29:alex", "name": "Alex Wilber", "aadObjectId": ALEX_ID}
TEXT_ANSWER = "application/vnd.microsoft.activity.message"
CARD_ANSWER = "application/vnd.microsoft.card.adaptive"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env


@dataclass
class Teams:
    client: Any
    connector: FakeConnector
    service_url: str

    @property
    def store(self) -> Store:
        return self.client.app[STORE]  # type: ignore[no-any-return]

    async def post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post("/api/messages", json=body)
        assert response.status == 200
        return await response.json() if response.content_length else {}  # type: ignore[no-any-return]

    async def press(self, verb: str, card: dict[str, Any], message_id: str) -> dict[str, Any]:
        """Alex presses `verb` on `card` (the card as their screen shows it)."""
        data = execute(card, verb)["data"]
        return await self.post(
            card_press(self.service_url, verb, data, reply_to=message_id, **{"from": ALEX})
        )


@pytest.fixture
async def teams(aiohttp_client: MakeClient, tmp_path: Path) -> AsyncIterator[Teams]:
    connector = FakeConnector()
    server = TestServer(connector.app(), host="127.0.0.1")
    await server.start_server()
    settings = Settings(
        _env_file=None,
        database_url=sqlite_url(tmp_path / "alertbot.db"),
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        notices_enabled=True,
    )
    try:
        client = await aiohttp_client(create_app(settings))
        yield Teams(client, connector, str(server.make_url("/")))
    finally:
        await server.close()


def execute(card: dict[str, Any], verb: str) -> dict[str, Any]:
    return next(n for n in nodes(card) if n.get("type") == "Action.Execute" and n["verb"] == verb)


def texts(card: dict[str, Any]) -> str:
    return " ".join(str(n.get("text", "")) for n in nodes(card))


async def eventually(check: Callable[[], Any], *, seconds: float = 15.0) -> Any:
    """`await check()` once it is not None (the bot delivers in the background)."""
    async with asyncio.timeout(seconds):
        while True:
            found = await check()
            if found is not None:
                return found
            await asyncio.sleep(0.05)


async def notice_on_alexs_screen(teams: Teams) -> tuple[Notice, Call]:
    """Alex's 1:1 chat is known (they wrote to the bot); a notice of two events reaches
    it; then a third event joins it (its update not on Alex's screen yet)."""
    await teams.post(message(teams.service_url, "help", **{"from": ALEX}))
    now = teams.client.app[CLOCK]()
    notice = sample_notice(events=2, created_at=now)
    await teams.store.add_notice(notice)
    await teams.store.enqueue([notice_delivery(notice, now)])
    teams.client.app[DISPATCHER].wake()

    async def delivered() -> Notice | None:
        stored = await teams.store.get_notice(notice.id)
        return stored if stored is not None and stored.message_id else None

    sent = await eventually(delivered)
    assert (sent.delivered_via, sent.conversation_id) == ("teams", PERSONAL)
    (call,) = [c for c in teams.connector.of_kind("send") if WAS_ME in str(c.card)]
    assert execute(call.card or {}, WAS_ME)["data"]["events_shown"] == 2
    assert await teams.store.add_notice_events(notice.id, [JOINED]) is not None
    return sent, call


async def test_this_was_me_on_a_card_shown_before_another_event_joined_is_asked_again(
    teams: Teams,
) -> None:
    notice, shown = await notice_on_alexs_screen(teams)
    assert notice.message_id is not None

    answer = await teams.press(WAS_ME, shown.card or {}, notice.message_id)

    assert (answer["statusCode"], answer["type"], answer["value"]) == (
        200,
        TEXT_ANSWER,
        messages.notice_changed(),
    )
    (update,) = teams.connector.of_kind("update")
    assert update.activity_id == notice.message_id
    refreshed = update.card or {}
    assert "User deleted security info" in texts(refreshed)
    assert "Reset user password" in texts(refreshed)
    assert execute(refreshed, WAS_ME)["data"]["events_shown"] == 3  # still asking
    unanswered = await teams.store.get_notice(notice.id)
    assert unanswered is not None
    assert unanswered.answer is None
    stale = [e for e in await teams.store.list_audit() if e.action == "notice.stale"]
    assert [(e.actor, e.conversation_id) for e in stale] == [(ALEX_ID, PERSONAL)]

    # Pressed on the card as it shows now: recorded.
    again = await teams.press(WAS_ME, refreshed, notice.message_id)
    assert (again["statusCode"], again["type"]) == (200, CARD_ANSWER)
    assert "you said this was you" in texts(again["value"])
    answered = await teams.store.get_notice(notice.id)
    assert answered is not None
    assert answered.answer is Answer.WAS_ME
    assert await teams.store.list_alerts() == []


async def test_this_wasnt_me_on_a_card_shown_before_another_event_joined_alerts_with_all(
    teams: Teams,
) -> None:
    notice, shown = await notice_on_alexs_screen(teams)
    assert notice.message_id is not None

    answer = await teams.press(NOT_ME, shown.card or {}, notice.message_id)

    assert (answer["statusCode"], answer["type"]) == (200, CARD_ANSWER)
    assert "You said this wasn't you" in texts(answer["value"])
    assert "User deleted security info" in texts(answer["value"])
    answered = await teams.store.get_notice(notice.id)
    assert answered is not None
    assert answered.answer is Answer.NOT_ME
    (alert,) = await teams.store.list_alerts()
    assert alert.id == answered.alert_id
    assert [row["RecordId"] for row in alert.evidence] == [
        "Directory_0",
        "Directory_1",
        JOINED.record_id,
    ]
    (entry,) = [e for e in await teams.store.list_audit() if e.action == "notice.not_me"]
    assert "(the message showed 2 of 3 events)" in (entry.detail or "")
