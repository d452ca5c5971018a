"""No answer to a notice: off by default; when on, one low-severity (Sev3) alert of category
Account security after the set time, to the subscribed channel, once per notice however
often the check runs or how many replicas run it; answered notices and old ones are left
alone. Against a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from bot.alerts.reload import RuleBook
from bot.alerts.rule_model import Rule
from bot.models import AlertEventKind
from bot.notice_wiring import notice_reminders
from bot.notices.model import Answer, Notice
from bot.notices.reminders import HORIZON, NoticeReminders
from bot.settings import Settings
from bot.store.sql import SqlStore
from tests.cards.samples import sample_notice
from tests.notices.conftest import NOW
from tests.support.alerting import subscribe

SECURITY = "19:security@thread.tacv2"
AFTER = timedelta(minutes=30)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def reminders(store: SqlStore, rule: Rule, clock: Clock, book: RuleBook) -> NoticeReminders:
    return NoticeReminders(
        store=store,
        rules=lambda: book.rules,
        clock=clock,
        after=AFTER,
        on_rule=book.add_external,
    )


async def a_notice(store: SqlStore, **overrides: object) -> Notice:
    """A stored notice made at NOW, its record ids its own (named after its id)."""
    notice = sample_notice(created_at=NOW).model_copy(update=overrides)
    events = tuple(
        e.model_copy(update={"record_id": f"{notice.id}-{e.record_id}"}) for e in notice.events
    )
    notice = notice.model_copy(update={"events": events})
    await store.add_notice(notice)
    return notice


@pytest.fixture
async def book(store: SqlStore, rule: Rule) -> RuleBook:
    await subscribe(store, SECURITY, "Account security")
    return RuleBook([rule], loaded_at=NOW)


async def test_off_by_default_nothing_is_raised(store: SqlStore, book: RuleBook) -> None:
    await a_notice(store)
    settings = Settings(_env_file=None, notices_enabled=True, scheduler_enabled=True)
    assert settings.notices_reminder_minutes == 0
    async with notice_reminders(
        settings, store=store, book=book, clock=Clock(NOW + HORIZON), on_enqueued=lambda: None
    ) as running:
        assert running is None
    assert await store.list_alerts() == []


async def test_on_the_check_runs_and_the_reminder_rule_is_known(
    store: SqlStore, book: RuleBook
) -> None:
    settings = Settings(
        _env_file=None, notices_enabled=True, scheduler_enabled=True, notices_reminder_minutes=30
    )
    async with notice_reminders(
        settings, store=store, book=book, clock=Clock(NOW), on_enqueued=lambda: None
    ) as running:
        assert isinstance(running, NoticeReminders)
        reminder = book.get("account-security-notice-no-answer")
        assert reminder is not None
        assert reminder.severity == 3
        assert reminder.category == "Account security"
        assert reminder.title.startswith("No answer: ")


async def test_one_alert_after_the_time_and_never_twice(
    store: SqlStore, rule: Rule, book: RuleBook
) -> None:
    notice = await a_notice(store)
    clock = Clock(NOW + AFTER - timedelta(minutes=1))
    check = reminders(store, rule, clock, book)
    assert await check.check() == 0
    assert await store.list_alerts() == []

    clock.at = NOW + AFTER + timedelta(minutes=1)
    assert await check.check() == 1
    (alert,) = await store.list_alerts()
    assert alert.rule_id == "account-security-notice-no-answer"
    assert alert.dimensions == {"Person": notice.person.label, "Notice": notice.id}
    assert alert.history[0].note == "No answer yet"
    shown = book.get(alert.rule_id)
    assert shown is not None
    assert shown.severity == 3
    (item,) = await store.list_outbox(conversation_id=SECURITY)
    assert item.event.kind is AlertEventKind.FIRED
    assert item.event.alert is not None
    assert item.event.alert.id == alert.id
    stored = await store.get_notice(notice.id)
    assert stored is not None
    assert stored.reminded_at == clock.at
    assert stored.answer is None  # the person may still answer
    assert any(e.action == "notice.reminder" for e in await store.list_audit())

    clock.at += timedelta(hours=2)
    assert await check.check() == 0
    assert len(await store.list_alerts()) == 1


async def test_answered_and_old_notices_are_left_alone(
    store: SqlStore, rule: Rule, book: RuleBook
) -> None:
    await a_notice(store, id="answered", answer=Answer.WAS_ME, answered_at=NOW)
    await a_notice(store, id="old", created_at=NOW - HORIZON - timedelta(minutes=5))
    check = reminders(store, rule, Clock(NOW + AFTER + timedelta(minutes=1)), book)
    assert await check.check() == 0
    assert await store.list_alerts() == []


async def test_two_replicas_checking_at_once_raise_it_once(
    store: SqlStore, rule: Rule, book: RuleBook
) -> None:
    for n in range(5):
        events = tuple(
            e.model_copy(update={"record_id": f"{e.record_id}-{n}"}) for e in sample_notice().events
        )
        await a_notice(store, id=f"notice{n}", events=events)
    clock = Clock(NOW + AFTER + timedelta(minutes=1))
    first, second = reminders(store, rule, clock, book), reminders(store, rule, clock, book)
    raised = await asyncio.gather(first.check(), second.check(), first.check())
    assert sum(raised) == 5
    alerts = await store.list_alerts()
    assert sorted(a.dimensions["Notice"] for a in alerts) == [f"notice{n}" for n in range(5)]
