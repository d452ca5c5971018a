"""The chat fallback reads like a transcript: a question in, a card out; buttons run choices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.ask.catalog import Catalog
from bot.ask.chat import ChatAnswers
from bot.ask.service import Asker
from bot.channels.teams.cards import CardRenderer
from bot.commands.base import Caller, Principal, Reply
from bot.errors import ThrottledError
from bot.models import ChannelKind
from bot.views import LogAnalyticsTarget
from bot.views.answer import AnswerView
from bot.views.choices import ASK_CHOOSE, ChoicesView
from bot.views.model import HelpCardView
from bot.workspace.base import QueryResult, TimeSpan
from bot.workspace.local import LocalWorkspace
from tests.ask.conftest import NOW
from tests.cards.conftest import nodes, texts
from tests.cards.test_cards_validator import validate, write

CALLER = Caller(
    principal=Principal(
        channel=ChannelKind.TEAMS,
        user_id="00000000-0000-0000-0000-00000000a11c",
        org_id="6417b88f-b93c-4137-8a73-e7e3daadd60a",
        name="Alice",
        entra_object_id="00000000-0000-0000-0000-00000000a11c",
    ),
    conversation_id="19:general@thread.tacv2",
    conversation_kind="channel",
)
TARGET = LogAnalyticsTarget(
    tenant_id="6417b88f-b93c-4137-8a73-e7e3daadd60a",
    resource_id="/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg"
    "/providers/Microsoft.OperationalInsights/workspaces/law",
)


@pytest.fixture
def bot(catalog: Catalog, workspace: LocalWorkspace) -> ChatAnswers:
    asker = Asker(catalog=catalog, workspace=workspace, clock=lambda: NOW)
    return ChatAnswers(asker, log_analytics=TARGET)


@pytest.fixture(scope="module")
def renderer() -> CardRenderer:
    return CardRenderer()


def card(reply: Reply, renderer: CardRenderer) -> dict[str, Any]:
    assert reply.view is not None, reply.text
    return renderer.render(reply.view)


async def test_a_question_gets_the_answer_card(bot: ChatAnswers, renderer: CardRenderer) -> None:
    reply = await bot.answer(CALLER, "servicenow failures last 24h")
    assert isinstance(reply.view, AnswerView)
    view = reply.view
    assert view.summary.startswith("25 failures for 24 identities in the last 24 hours")
    assert ("Provisioning job", "ServiceNow") in [(f.name, f.value) for f in view.facts]
    assert view.table.columns[:3] == ("TimeGenerated", "App", "Identity")
    assert view.portal_url
    assert view.portal_url.startswith("https://portal.azure.com/")
    shown = texts(card(reply, renderer))
    assert "Show query" in shown
    assert "Open in Log Analytics" in shown


async def test_a_trend_question_draws_a_chart(bot: ChatAnswers) -> None:
    reply = await bot.answer(CALLER, "chart provisioning activity for salesforce")
    assert isinstance(reply.view, AnswerView)
    assert reply.view.chart is not None
    assert reply.view.chart.line


async def test_an_empty_answer_says_so_and_what_was_searched(bot: ChatAnswers) -> None:
    reply = await bot.answer(CALLER, "access reviews deleted yesterday")
    assert isinstance(reply.view, AnswerView)
    assert reply.view.empty
    assert reply.view.summary == "No access reviews were deleted yesterday."
    assert reply.view.empty_text == "Searched: Access reviews deleted yesterday"


async def test_an_ambiguous_question_offers_buttons_that_answer_it(
    bot: ChatAnswers, renderer: CardRenderer
) -> None:
    reply = await bot.answer(CALLER, "scim failures")
    assert isinstance(reply.view, ChoicesView)
    executes = [n for n in nodes(card(reply, renderer)) if n.get("type") == "Action.Execute"]
    # the demo's SCIM jobs, Greenhouse Recruiting included (paused six days ago)
    assert [b["title"] for b in executes] == ["Greenhouse Recruiting", "Salesforce", "ServiceNow"]
    assert {b["verb"] for b in executes} == {ASK_CHOOSE}
    pressed = await bot.answer_choice(CALLER, executes[2]["data"])
    assert isinstance(pressed.view, AnswerView)
    assert pressed.view.title == "Provisioning failures"
    assert ("Provisioning job", "ServiceNow") in [(f.name, f.value) for f in pressed.view.facts]


async def test_two_commands_that_fit_are_offered_not_guessed(bot: ChatAnswers) -> None:
    reply = await bot.answer(CALLER, "deletes")
    assert isinstance(reply.view, ChoicesView)
    commands = [b.data["command"] for b in reply.view.buttons]
    assert {"provisioning-disables-deletes", "access-reviews-deleted"} <= set(commands)


async def test_a_missing_required_value_is_asked_for(bot: ChatAnswers) -> None:
    reply = await bot.answer(CALLER, "provisioning logs for a user")
    assert isinstance(reply.view, ChoicesView)
    assert "the user" in reply.view.prompt or "user" in reply.view.prompt


async def test_nothing_that_fits_says_so(bot: ChatAnswers) -> None:
    reply = await bot.answer(CALLER, "order a pizza")
    assert isinstance(reply.view, ChoicesView)
    assert reply.view.prompt.startswith("I can't match “order a pizza”")


async def test_what_can_you_do_lists_the_questions(bot: ChatAnswers, catalog: Catalog) -> None:
    reply = await bot.answer(CALLER, "what can you do?")
    assert isinstance(reply.view, HelpCardView)
    assert len(reply.view.commands) == len(catalog.queries)


async def test_a_button_with_tampered_data_is_refused_politely(bot: ChatAnswers) -> None:
    for data in (
        {"command": "no-such-command", "parameters": {}},
        {"command": "provisioning-failures", "parameters": {"drop": "table"}},
        {"command": "provisioning-failures", "parameters": {"window": "forever"}},
        {"command": "provisioning-user-events", "parameters": {}},
        {"parameters": "x"},
    ):
        reply = await bot.answer_choice(CALLER, data)
        assert reply.view is None, data
        assert reply.text == messages.ask_stale_choice()


async def test_a_workspace_that_cannot_answer_gets_a_short_sentence(catalog: Catalog) -> None:
    class Throttled:
        async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
            raise ThrottledError("429")

        async def close(self) -> None:
            return None

    bot = ChatAnswers(Asker(catalog=catalog, workspace=Throttled(), clock=lambda: NOW))
    reply = await bot.answer(CALLER, "errors by code")
    assert reply.view is None
    assert reply.text
    assert "did not answer" in reply.text


async def test_every_answer_and_choices_card_passes_the_renderer(
    bot: ChatAnswers, renderer: CardRenderer, tmp_path: Path
) -> None:
    questions = [
        "servicenow failures last 24h",
        "errors by code this month",
        "provisioning spikes over time",
        "access reviews deleted yesterday",
        "scim failures",
        "order a pizza",
        "skipped events last 30 days",
    ]
    paths = []
    for number, question in enumerate(questions):
        reply = await bot.answer(CALLER, question)
        paths.append(write(tmp_path, f"q{number}", card(reply, renderer)))
    report = validate(paths)
    assert {c["file"]: c["errors"] for c in report["cards"] if c["errors"]} == {}
