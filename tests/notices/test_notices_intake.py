"""The catalog's notice rule on the demo workspace: one notice per audit record, grouped
per person, pilot and opt-outs respected, nothing twice across re-runs and restarts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.alerts.rule_model import Rule
from bot.models import AlertEventKind
from bot.notices.intake import NoticeIntake, NoticePolicy, group_events
from bot.notices.model import NoticeEvent
from bot.store.sql import SqlStore, open_store
from bot.workspace.demo import DemoManifest
from bot.workspace.local import LocalWorkspace
from tests.notices.conftest import ALEX_ID, ALEX_UPN, NOW
from tests.support.alerting import sqlite_url

Demo = tuple[LocalWorkspace, DemoManifest]
PILOT = NoticePolicy(pilot_users=frozenset({ALEX_ID}))


async def test_the_playground_user_gets_one_notice_for_the_planted_pair(
    demo: Demo, rule: Rule, store: SqlStore
) -> None:
    intake = NoticeIntake(store=store, workspace=demo[0], policy=PILOT)
    done = await intake.evaluate(rule, now=NOW)
    (notice,) = done.new_notices
    assert (notice.person.object_id, notice.person.upn) == (ALEX_ID, ALEX_UPN)
    assert [e.activity for e in notice.events] == [
        "Reset user password",
        "User registered security info",
    ]
    assert notice.events[1].ip_address == "203.0.113.77"
    assert notice.events[0].initiated_by
    assert notice.events[0].initiated_by != ALEX_UPN
    assert done.skipped_people > 0  # everyone else is outside the pilot
    (item,) = await store.list_outbox()
    assert (item.event.kind, item.event.detail) == (AlertEventKind.NOTICE, notice.id)


async def test_a_rerun_sends_nothing_twice(demo: Demo, rule: Rule, store: SqlStore) -> None:
    intake = NoticeIntake(store=store, workspace=demo[0], policy=PILOT)
    await intake.evaluate(rule, now=NOW)
    again = await intake.evaluate(rule, now=NOW + timedelta(minutes=1))
    assert again.new_notices == ()
    assert again.already_known == 2
    assert len(await store.list_outbox()) == 1


async def test_a_restart_sends_nothing_twice(demo: Demo, rule: Rule, tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "restart.db")
    first = await open_store(url)
    try:
        await NoticeIntake(store=first, workspace=demo[0], policy=PILOT).evaluate(rule, now=NOW)
    finally:
        await first.close()
    second = await open_store(url)  # a new process on the same database
    try:
        intake = NoticeIntake(store=second, workspace=demo[0], policy=PILOT)
        again = await intake.evaluate(rule, now=NOW + timedelta(minutes=2))
        assert again.new_notices == ()
        assert len(await second.list_outbox()) == 1
    finally:
        await second.close()


async def test_everyone_without_a_pilot_one_notice_per_record(
    demo: Demo, rule: Rule, store: SqlStore
) -> None:
    policy = NoticePolicy(per_person_per_hour=60)
    done = await NoticeIntake(store=store, workspace=demo[0], policy=policy).evaluate(rule, now=NOW)
    records = [e.record_id for n in done.new_notices for e in n.events]
    assert len(records) == len(set(records)) == done.events
    assert len({n.person.key for n in done.new_notices}) >= 1


async def test_opted_out_people_get_nothing(demo: Demo, rule: Rule, store: SqlStore) -> None:
    policy = NoticePolicy(pilot_users=frozenset({ALEX_ID}), opted_out_users=frozenset({ALEX_UPN}))
    done = await NoticeIntake(store=store, workspace=demo[0], policy=policy).evaluate(rule, now=NOW)
    assert done.new_notices == ()
    assert await store.list_outbox() == []


async def test_over_the_hourly_limit_events_join_the_latest_notice(
    demo: Demo, rule: Rule, store: SqlStore
) -> None:
    grouping = rule.notify_person
    assert grouping is not None
    tight = rule.model_copy(
        update={"notify_person": grouping.model_copy(update={"group_within": timedelta(0)})}
    )
    policy = NoticePolicy(pilot_users=frozenset({ALEX_ID}), per_person_per_hour=1)
    done = await NoticeIntake(store=store, workspace=demo[0], policy=policy).evaluate(
        tight, now=NOW
    )
    (notice,) = done.new_notices
    assert done.grouped_into_earlier == 1
    stored = await store.get_notice(notice.id)
    assert stored is not None
    assert len(stored.events) == 2
    assert len(await store.list_outbox()) == 1


@pytest.mark.parametrize(("gaps", "groups"), [((0, 1, 4), 1), ((0, 6), 2), ((0, 4, 8), 2)])
def test_grouping_within_five_minutes_of_the_first(gaps: tuple[int, ...], groups: int) -> None:
    events = [
        NoticeEvent(record_id=f"r{m}", at=NOW + timedelta(minutes=m), activity="a", text="a")
        for m in gaps
    ]
    assert len(group_events(events, timedelta(minutes=5))) == groups
