"""The person answers: "This was me" is recorded and audited; "This wasn't me" raises an
alert (the rule's severity 1, category Account security) to the subscribed channels with
the person, events, initiator and addresses; only the person may answer; once is enough."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.alerts.rule_model import Rule
from bot.commands.base import Caller, Principal
from bot.models import AlertEventKind, ChannelKind
from bot.notices.answers import NOT_YOURS, NoticeAnswers
from bot.notices.intake import NoticeIntake, NoticePolicy
from bot.notices.model import NOT_ME, WAS_ME, Notice
from bot.store.sql import SqlStore
from bot.views.notice import NoticeView
from bot.workspace.demo import DemoManifest
from bot.workspace.local import LocalWorkspace
from tests.notices.conftest import ALEX_ID, NOW
from tests.support.alerting import opened_store, subscribe

SECURITY = "19:security@thread.tacv2"
PROVISIONING = "19:provisioning@thread.tacv2"
MEGAN = "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"


def person(object_id: str, name: str) -> Caller:
    return Caller(
        principal=Principal(
            channel=ChannelKind.TEAMS,
            user_id=object_id,
            org_id="6f1c2c5e-3b4a-4d8e-9a51-2b7e0c9d4f10",
            name=name,
            entra_object_id=object_id,
        ),
        conversation_id="personal-chat",
        conversation_kind="direct",
    )


ALEX = person(ALEX_ID, "Alex Wilber")


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with opened_store("sqlite", tmp_path) as opened:
        yield opened


@pytest.fixture
async def notice(
    sqlite_store: SqlStore, demo: tuple[LocalWorkspace, DemoManifest], rule: Rule
) -> Notice:
    await subscribe(sqlite_store, SECURITY, "Account security")
    await subscribe(sqlite_store, PROVISIONING, "Provisioning")
    policy = NoticePolicy(pilot_users=frozenset({ALEX_ID}))
    intake = NoticeIntake(store=sqlite_store, workspace=demo[0], policy=policy)
    (found,) = (await intake.evaluate(rule, now=NOW)).new_notices
    return found


def answers(store: SqlStore, rule: Rule, woken: list[int]) -> NoticeAnswers:
    return NoticeAnswers(
        store=store, rules=lambda: [rule], clock=lambda: NOW, on_enqueued=lambda: woken.append(1)
    )


async def test_this_wasnt_me_alerts_the_subscribed_channel(
    sqlite_store: SqlStore, rule: Rule, notice: Notice
) -> None:
    woken: list[int] = []
    actions = answers(sqlite_store, rule, woken).actions()
    reply = await actions[NOT_ME](ALEX, {"notice_id": notice.id})

    assert isinstance(reply.view, NoticeView)
    assert reply.view.answer == "not_me"
    assert reply.view.buttons == ()
    stored = await sqlite_store.get_notice(notice.id)
    assert stored is not None
    assert stored.alert_id is not None
    alert = await sqlite_store.get_alert(stored.alert_id)
    assert alert is not None
    assert alert.rule_id == rule.id
    assert alert.dimensions["Person"] == "alexw@contoso.example"
    assert {row["Activity"] for row in alert.evidence} == {
        "Reset user password",
        "User registered security info",
    }
    assert "203.0.113.77" in {row["IpAddress"] for row in alert.evidence}
    fired = [i for i in await sqlite_store.list_outbox() if i.event.kind is AlertEventKind.FIRED]
    assert [i.conversation_id for i in fired] == [SECURITY]  # severity 1, Account security
    assert woken == [1]
    (entry,) = await sqlite_store.list_audit()
    assert (entry.action, entry.actor, entry.alert_id) == ("notice.not_me", ALEX_ID, None)
    assert f"alert {alert.id}" in (entry.detail or "")


async def test_this_was_me_is_recorded_and_closes_the_matter(
    sqlite_store: SqlStore, rule: Rule, notice: Notice
) -> None:
    woken: list[int] = []
    reply = await answers(sqlite_store, rule, woken).actions()[WAS_ME](
        ALEX, {"notice_id": notice.id}
    )
    assert isinstance(reply.view, NoticeView)
    assert reply.view.answer == "was_me"
    assert await sqlite_store.list_alerts(open_only=False) == []
    assert [e.action for e in await sqlite_store.list_audit()] == ["notice.was_me"]
    assert woken == []


async def test_a_forwarded_notice_pressed_by_someone_else_is_refused(
    sqlite_store: SqlStore, rule: Rule, notice: Notice
) -> None:
    megan = person(MEGAN, "Megan Bowen")
    reply = await answers(sqlite_store, rule, []).actions()[NOT_ME](megan, {"notice_id": notice.id})
    assert (reply.text, reply.view) == (NOT_YOURS, None)
    stored = await sqlite_store.get_notice(notice.id)
    assert stored is not None
    assert stored.answer is None
    assert await sqlite_store.list_alerts(open_only=False) == []
    (entry,) = await sqlite_store.list_audit()
    assert (entry.action, entry.actor) == ("notice.refused", MEGAN)


async def test_the_first_answer_stands(sqlite_store: SqlStore, rule: Rule, notice: Notice) -> None:
    actions = answers(sqlite_store, rule, []).actions()
    await actions[WAS_ME](ALEX, {"notice_id": notice.id})
    again = await actions[NOT_ME](ALEX, {"notice_id": notice.id})
    assert isinstance(again.view, NoticeView)
    assert again.view.answer == "was_me"
    assert await sqlite_store.list_alerts(open_only=False) == []
