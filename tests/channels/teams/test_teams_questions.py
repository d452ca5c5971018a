"""Questions asked in Teams (issue 5) through the whole bot: create_app with the real router,
botbuilder and the question catalog, against a fake Bot Connector. Text that is no command
is answered with the matching KQL's result; a trend comes with a chart; an ambiguous
question offers choices as buttons, and a choice answers in place."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.app import create_app
from tests.cards.conftest import nodes
from tests.channels.teams.conftest import MakeClient, card_press, channel, message
from tests.channels.teams.fake_connector import Call, FakeConnector
from tests.channels.teams.test_teams_app import button, eventually, settings

Say = Callable[[str], Any]


@pytest.fixture
async def client(aiohttp_client: MakeClient, tmp_path: Path) -> TestClient[Any, Any]:
    return await aiohttp_client(create_app(settings(tmp_path)))


async def ask(client: TestClient[Any, Any], fake: FakeConnector, url: str, text: str) -> Call:
    before = len(fake.calls)
    response = await client.post("/api/messages", json=message(url, text, **channel()))
    assert response.status == 200
    found: Call = await eventually(lambda: fake.calls[before:] and fake.calls[before])
    return found


def texts(card: dict[str, Any] | None) -> str:
    return " ".join(str(n.get("text", "")) for n in nodes(card or {}))


async def test_a_question_is_answered_with_the_rows_the_kql_finds(
    client: TestClient[Any, Any], fake: FakeConnector, service_url: str
) -> None:
    answer = await ask(client, fake, service_url, "provisioning failures for ServiceNow last 24h")
    shown = texts(answer.card)
    assert "25 failures" in shown  # the demo's planted spike for the ServiceNow job
    assert "AADProvisioningLogs" in shown  # the KQL that ran, collapsed on the card


async def test_a_trend_comes_with_a_chart(
    client: TestClient[Any, Any], fake: FakeConnector, service_url: str
) -> None:
    answer = await ask(client, fake, service_url, "provisioning failures over time")
    charts = [n for n in nodes(answer.card or {}) if str(n.get("type", "")).startswith("Chart.")]
    assert charts
    assert all("fallback" in chart for chart in charts)  # other hosts show a table


async def test_an_ambiguous_question_offers_choices_and_a_choice_answers(
    client: TestClient[Any, Any], fake: FakeConnector, service_url: str
) -> None:
    offered = await ask(client, fake, service_url, "deletes")
    choice = button(offered.card or {}, "ask.choose")
    press = card_press(service_url, "ask.choose", choice["data"], reply_to="choices-1", **channel())
    response = await client.post("/api/messages", json=press)
    assert response.status == 200
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "ask.choose" not in {n.get("verb") for n in nodes(body["value"])}  # an answer now
