"""The person answers: "This was me" is recorded and audited; "This wasn't me" raises an
alert (the rule's severity 1, category Account security) to the subscribed channels with
the person, events, initiator and addresses; only the person may answer; once is enough.

Buttons are pressed with the data the rendered notice gives them (the events it shows):
"This was me" on a message that shows fewer events than the notice holds now is not
recorded but asked again with every event; "This wasn't me" is taken, with all events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import messages
from bot.alerts.rule_model import Rule
from bot.commands.base import Caller, Principal
from bot.models import AlertEventKind, ChannelKind
from bot.notices.answers import NOT_YOURS, NoticeAnswers
from bot.notices.delivery import notice_view_for
from bot.notices.intake import NoticeIntake, NoticePolicy
from bot.notices.model import NOT_ME, WAS_ME, Answer, Notice, NoticeEvent
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


def shown(notice: Notice | NoticeView, rule: Rule, verb: str) -> dict[str, Any]:
    """The data of the `verb` button on the message that shows `notice` (or that view)."""
    view = notice if isinstance(notice, NoticeView) else notice_view_for(notice, [rule], now=NOW)
    return next(b.data for b in view.buttons if b.verb == verb)


#: A third event that joins the notice after its message was shown.
JOINED = NoticeEvent(
    record_id="later-deleted-method",
    at=NOW - timedelta(minutes=1),
    activity="User deleted security info",
    text="User deleted security info",
    initiated_by="mallory@contoso.example",
    ip_address="198.51.100.9",
)


async def test_this_wasnt_me_alerts_the_subscribed_channel(
    sqlite_store: SqlStore, rule: Rule, notice: Notice
) -> None:
    woken: list[int] = []
    actions = answers(sqlite_store, rule, woken).actions()
    reply = await actions[NOT_ME](ALEX, shown(notice, rule, NOT_ME))

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
        ALEX, shown(notice, rule, WAS_ME)
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
    reply = await answers(sqlite_store, rule, []).actions()[NOT_ME](
        megan, shown(notice, rule, NOT_ME)
    )
    assert (reply.text, reply.view) == (NOT_YOURS, None)
    stored = await sqlite_store.get_notice(notice.id)
    assert stored is not None
    assert stored.answer is None
    assert await sqlite_store.list_alerts(open_only=False) == []
    (entry,) = await sqlite_store.list_audit()
    assert (entry.action, entry.actor) == ("notice.refused", MEGAN)


async def test_the_first_answer_stands(sqlite_store: SqlStore, rule: Rule, notice: Notice) -> None:
    actions = answers(sqlite_store, rule, []).actions()
    await actions[WAS_ME](ALEX, shown(notice, rule, WAS_ME))
    again = await actions[NOT_ME](ALEX, shown(notice, rule, NOT_ME))
    assert isinstance(again.view, NoticeView)
    assert again.view.answer == "was_me"
    assert await sqlite_store.list_alerts(open_only=False) == []


async def test_this_was_me_on_a_message_that_showed_fewer_events_is_asked_again(
    sqlite_store: SqlStore, rule: Rule, notice: Notice
) -> None:
    pressed = shown(notice, rule, WAS_ME)  # the message shows the first two events
    assert pressed["events_shown"] == 2
    await sqlite_store.add_notice_events(notice.id, [JOINED])
    actions = answers(sqlite_store, rule, []).actions()

    reply = await actions[WAS_ME](ALEX, pressed)

    assert reply.text == messages.notice_changed()
    assert isinstance(reply.view, NoticeView)
    assert reply.view.answer is None
    assert [row.text for row in reply.view.events][-1] == "User deleted security info"
    assert shown(reply.view, rule, WAS_ME)["events_shown"] == 3
    stored = await sqlite_store.get_notice(notice.id)
    assert stored is not None
    assert stored.answer is None
    (entry,) = await sqlite_store.list_audit()
    assert (entry.action, entry.actor) == ("notice.stale", ALEX_ID)
    assert "was_me not recorded: the message showed 2 of 3 events" in (entry.detail or "")

    # Pressed again on the message as it was refreshed: recorded.
    again = await actions[WAS_ME](ALEX, shown(reply.view, rule, WAS_ME))
    assert (again.text, again.view and again.view.answer) == (None, "was_me")
    assert [e.action for e in await sqlite_store.list_audit()] == ["notice.stale", "notice.was_me"]
    assert await sqlite_store.list_alerts(open_only=False) == []


async def test_this_wasnt_me_on_a_message_that_showed_fewer_events_alerts_with_all(
    sqlite_store: SqlStore, rule: Rule, notice: Notice
) -> None:
    pressed = shown(notice, rule, NOT_ME)
    await sqlite_store.add_notice_events(notice.id, [JOINED])
    woken: list[int] = []

    reply = await answers(sqlite_store, rule, woken).actions()[NOT_ME](ALEX, pressed)

    assert reply.text is None
    assert isinstance(reply.view, NoticeView)
    assert (reply.view.answer, len(reply.view.events)) == ("not_me", 3)
    stored = await sqlite_store.get_notice(notice.id)
    assert stored is not None
    assert stored.alert_id is not None
    alert = await sqlite_store.get_alert(stored.alert_id)
    assert alert is not None
    assert [row["Activity"] for row in alert.evidence][-1] == "User deleted security info"
    assert {row["RecordId"] for row in alert.evidence} == {e.record_id for e in stored.events}
    assert alert.value == 3
    assert woken == [1]
    (entry,) = await sqlite_store.list_audit()
    assert entry.action == "notice.not_me"
    assert "(the message showed 2 of 3 events)" in (entry.detail or "")


@pytest.mark.parametrize(
    ("told_events", "joined", "recorded"),
    [
        (2, False, True),  # told about every event it holds: taken
        (2, True, False),  # an event joined after: its update may not be on screen yet
        (0, False, False),  # delivered before the count was kept: asked again once
    ],
)
async def test_a_button_without_the_count_is_taken_to_show_what_the_person_was_told(
    sqlite_store: SqlStore,
    rule: Rule,
    notice: Notice,
    told_events: int,
    joined: bool,
    recorded: bool,
) -> None:
    await sqlite_store.set_notice_delivery(
        notice.id, via="teams", conversation_id="a:1", message_id="1", told_events=told_events
    )
    if joined:
        await sqlite_store.add_notice_events(notice.id, [JOINED])
    reply = await answers(sqlite_store, rule, []).actions()[WAS_ME](
        ALEX,
        {"notice_id": notice.id},  # as a message sent before buttons carried the count
    )
    stored = await sqlite_store.get_notice(notice.id)
    assert stored is not None
    assert (stored.answer is Answer.WAS_ME) is recorded
    assert (reply.text == messages.notice_changed()) is not recorded
    if not recorded:
        (entry,) = await sqlite_store.list_audit()
        assert "its button has no count: taken as told" in (entry.detail or "")


async def test_an_answer_covering_fewer_events_than_stored_changes_nothing(
    store: SqlStore, demo: tuple[LocalWorkspace, DemoManifest], rule: Rule
) -> None:
    """The store's check (the notice locked): an event joined between reading the notice
    and recording the answer is counted, on SQLite and PostgreSQL."""
    policy = NoticePolicy(pilot_users=frozenset({ALEX_ID}))
    intake = NoticeIntake(store=store, workspace=demo[0], policy=policy)
    (notice,) = (await intake.evaluate(rule, now=NOW)).new_notices
    await store.add_notice_events(notice.id, [JOINED])
    refused = await store.answer_notice(
        notice.id, answer=Answer.WAS_ME, at=NOW, alert_id=None, events=2
    )
    assert refused is None
    unanswered = await store.get_notice(notice.id)
    assert unanswered is not None
    assert unanswered.answer is None
    answered = await store.answer_notice(
        notice.id, answer=Answer.WAS_ME, at=NOW, alert_id=None, events=3
    )
    assert answered is not None
    assert (answered.answer, len(answered.events)) == (Answer.WAS_ME, 3)
    assert await store.answer_notice(notice.id, answer=Answer.NOT_ME, at=NOW, alert_id=7) is None
