"""The notify_person section of a rule is validated like the rest: every problem reported
as `file:line:col: rule-id: message`; and the demo's planted person is the Playground's."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.alerts.kql_checks import OutputProbe
from bot.alerts.rules import check_rules
from bot.workspace.demo.scenarios import PLAYGROUND_USER
from bot.workspace.probe import empty_tables_probe
from tests.support.chat import ChatHarness

ROOT = Path(__file__).parents[2]
RULE = """\
rules:
  - id: notice
    title: Notice
    description: Tell the person.
    category: Account security
    severity: 1
    query: |
      AuditLogs
      | extend UserId = tostring(TargetResources[0].id)
      | project Id, TimeGenerated, Activity = ActivityDisplayName, UserId
    frequency: 5m
    window: 30m
    measure: count
    operator: ">"
    threshold: 0
    notify_person:
      object_id_column: UserId
      title: Was this you?
      text: "{Activity}"
    remediation:
      text: Check it.
"""


@pytest.fixture(scope="module")
def probe() -> Iterator[OutputProbe]:
    with empty_tables_probe() as probe:
        yield probe


def check(tmp_path: Path, text: str, probe: OutputProbe) -> list[str]:
    (tmp_path / "r.yaml").write_text(textwrap.dedent(text))
    report = check_rules([tmp_path], probe=probe)
    return [str(d).removeprefix(f"{tmp_path}/") for d in report.diagnostics]


def test_a_valid_notice_rule(tmp_path: Path, probe: OutputProbe) -> None:
    assert check(tmp_path, RULE, probe) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      object_id_column: UserId\n",
            "",
            "r.yaml:17:7: notice: notify_person: name the person: "
            "object_id_column and/or upn_column",
        ),
        (
            'text: "{Activity}"',
            'text: "{Activity} by {Secret}"',
            "r.yaml:17:7: notice: notify_person: text uses Secret, which is not "
            "one of the notice's columns (Id, TimeGenerated, UserId, Activity)",
        ),
        (
            "object_id_column: UserId",
            "object_id_column: TargetId",
            "r.yaml:17:25: notice: notify_person object_id_column 'TargetId' is not a column "
            "of the query's output (Id, TimeGenerated, Activity, UserId)",
        ),
    ],
)
def test_notice_problems(
    tmp_path: Path, probe: OutputProbe, old: str, new: str, expected: str
) -> None:
    found = check(tmp_path, RULE.replace(old, new), probe)
    assert found == [expected]


def test_the_planted_notice_is_for_the_playground_user() -> None:
    config = yaml.safe_load((ROOT / "tools" / "playground" / "admin.yml").read_text())
    me = config["currentUser"]
    assert (PLAYGROUND_USER.object_id, PLAYGROUND_USER.upn) == (
        me["aadObjectId"],
        me["userPrincipleName"],
    )


async def test_run_in_chat_does_not_turn_a_notice_rule_into_an_alert(tmp_path: Path) -> None:
    async with await ChatHarness.create(tmp_path, admin=True) as chat:
        reply = await chat.say("run account-security-notice")
        assert reply.text is not None
        assert "tells the affected people directly" in reply.text
        assert await chat.store.list_alerts(open_only=False) == []
