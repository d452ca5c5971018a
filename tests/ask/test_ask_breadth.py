"""The questions admins type next (issue 16), answered with the rows hand-written KQL finds on
the demo; nonsense and requests to change things never get rows; follow-ups reuse the
conversation's last question, per person, for a while."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.ask.answer import Answer
from bot.ask.catalog import Catalog
from bot.ask.chat import ChatAnswers
from bot.ask.memory import RecentQuestions
from bot.ask.service import Asker
from bot.ask.understand import NotUnderstood, Resolved
from bot.views.answer import AnswerView
from bot.views.choices import ChoicesView
from bot.workspace.base import TimeSpan
from bot.workspace.local import LocalWorkspace
from tests.ask.conftest import NOW
from tests.ask.test_ask_chat import CALLER

MONDAY = datetime(2026, 11, 16, tzinfo=NOW.tzinfo)
SALESFORCE = "scim.7dec40ef04694545bff6ee02edc70579.6417b88f-b93c-4137-8a73-e7e3daadd60a"


@pytest.fixture
def asker(catalog: Catalog, workspace: LocalWorkspace) -> Asker:
    return Asker(catalog=catalog, workspace=workspace, clock=lambda: NOW)


async def ask(asker: Asker, question: str) -> Answer:
    understood = await asker.understand(question)
    assert isinstance(understood, Resolved), understood
    return await asker.run(understood)


def rows(workspace: LocalWorkspace, kql: str, timespan: TimeSpan) -> list[dict[str, Any]]:
    return workspace.run_sync(kql, timespan=timespan).as_dicts()


async def test_top_n_error_codes(asker: Asker, workspace: LocalWorkspace) -> None:
    answer = await ask(asker, "top 3 error codes this week")
    expected = rows(
        workspace,
        'AADProvisioningLogs | where ResultType == "Failure" and ResultSignature != "None"'
        " | summarize Failures = count() by ErrorCode = ResultSignature | top 3 by Failures",
        (MONDAY, NOW),
    )
    got = [(row["ErrorCode"], row["Failures"]) for row in answer.result.as_dicts()]
    assert len(got) == 3
    assert sorted(r["Failures"] for r in expected) == sorted(f for _, f in got)
    assert "take 3" in answer.bound.kql
    assert "take n" not in answer.bound.kql


async def test_success_rate_of_one_job(asker: Asker, workspace: LocalWorkspace) -> None:
    answer = await ask(asker, "success rate of salesforce since monday")
    [row] = answer.result.as_dicts()
    [counted] = rows(
        workspace,
        f'AADProvisioningLogs | where JobId == "{SALESFORCE}" | summarize'
        ' S = countif(ResultType == "Success"), F = countif(ResultType == "Failure")',
        (MONDAY, NOW),
    )
    assert (row["Succeeded"], row["Failed"]) == (counted["S"], counted["F"])
    assert row["SuccessRate"] == round(100 * counted["S"] / (counted["S"] + counted["F"]), 1)


async def test_failures_against_the_week_before(asker: Asker, workspace: LocalWorkspace) -> None:
    answer = await ask(asker, "more failures than last week?")
    week = timedelta(days=7)
    query = 'AADProvisioningLogs | where ResultType == "Failure" | count'
    this_week = rows(workspace, query, (NOW - week, NOW))[0]["Count"]
    week_before = rows(workspace, query, (NOW - 2 * week, NOW - week))[0]["Count"]
    got = answer.result.as_dicts()
    assert sum(r["ThisPeriod"] for r in got) == this_week
    assert sum(r["PreviousPeriod"] for r in got) == week_before
    assert answer.bound.timespan == (NOW - 2 * week, NOW)


async def test_a_person_by_display_name(asker: Asker, workspace: LocalWorkspace) -> None:
    answer = await ask(asker, "provisioning events for Jana Okafor")
    assert answer.bound.values["user"] == "jana.okafor@woodgrove.com"
    [counted] = rows(
        workspace,
        "AADProvisioningLogs"
        " | extend T = parse_json(TargetIdentity), S = parse_json(SourceIdentity)"
        ' | where tostring(T.details.UserPrincipalName) =~ "jana.okafor@woodgrove.com"'
        ' or tostring(S.details.UserPrincipalName) =~ "jana.okafor@woodgrove.com"'
        ' or tostring(T.Name) =~ "jana.okafor@woodgrove.com"'
        ' or tostring(S.Name) =~ "jana.okafor@woodgrove.com" | count',
        timedelta(days=7),
    )
    assert answer.total == counted["Count"] > 0


async def test_an_absolute_range_and_an_action_filter(
    asker: Asker, workspace: LocalWorkspace
) -> None:
    answer = await ask(asker, "failed creates in servicenow between Nov 1 and Nov 17")
    start = datetime(2026, 11, 1, tzinfo=NOW.tzinfo)
    end = datetime(2026, 11, 18, tzinfo=NOW.tzinfo)
    assert answer.bound.timespan == (start, end)
    assert answer.bound.values["action"] == "Create"
    [counted] = rows(
        workspace,
        'AADProvisioningLogs | where JobId startswith "scim.3ed7" and ResultType == "Failure"'
        ' and Action == "Create" | count',
        (start, end),
    )
    assert answer.total == counted["Count"]
    assert {r["Action"] for r in answer.result.as_dicts()} <= {"Create"}


@pytest.mark.parametrize(
    "text",
    [
        "banana bread recipe",
        "DROP TABLE AuditLogs; --",
        "delete the failed users",
        "please disable the ServiceNow provisioning job",
        "sign-in logs for jana.okafor@woodgrove.com",
        "Intune device compliance failures",
    ],
)
async def test_nonsense_and_requests_to_change_things_get_no_rows(
    catalog: Catalog, workspace: LocalWorkspace, text: str
) -> None:
    bot = ChatAnswers(Asker(catalog=catalog, workspace=workspace, clock=lambda: NOW))
    reply = await bot.answer(CALLER, text)
    assert isinstance(reply.view, ChoicesView)
    assert reply.view.prompt.startswith("I can't match")


async def test_a_follow_up_reuses_the_last_question_of_the_same_person(asker: Asker) -> None:
    bot = ChatAnswers(asker)
    first = await bot.answer(CALLER, "servicenow failures this week")
    assert isinstance(first.view, AnswerView)
    again = await bot.answer(CALLER, "and for Salesforce?")
    assert isinstance(again.view, AnswerView)
    facts = {f.name: f.value for f in again.view.facts}
    assert facts["Provisioning job"] == "Salesforce"
    assert facts["Time range"] == "this week"
    later = await bot.answer(CALLER, "same for yesterday")
    assert isinstance(later.view, AnswerView)
    assert {f.name: f.value for f in later.view.facts}["Time range"] == "yesterday"
    someone_else = replace(
        CALLER, principal=replace(CALLER.principal, user_id="00000000-0000-0000-0000-0000000000b0")
    )
    alone = await bot.answer(someone_else, "and for Salesforce?")
    assert not isinstance(alone.view, AnswerView) or alone.view.title != "Provisioning failures"


def test_the_memory_is_bounded_and_forgets(catalog: Catalog) -> None:
    now = [NOW]
    memory = RecentQuestions(clock=lambda: now[0], size=2, expiry=timedelta(minutes=30))
    command = catalog.find("provisioning-failures")
    assert command is not None
    asked = Resolved(command, {}, replace_window())
    for key in ("a", "b", "c"):
        memory.remember(key, asked)
    assert len(memory) == 2
    assert memory.last("a") is None  # the least recently used went first
    assert memory.last("c") is asked
    now[0] += timedelta(minutes=31)
    assert memory.last("c") is None


def replace_window() -> Any:
    from bot.ask.timephrases import parse_window

    return parse_window("24h", now=NOW, limit=timedelta(days=90))


async def test_a_long_message_is_not_read_and_its_echo_is_short(asker: Asker) -> None:
    got = await asker.understand("failures " * 4000)
    assert isinstance(got, NotUnderstood)
    assert len(got.text) <= 80
    assert "\n" not in got.text
