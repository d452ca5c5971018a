"""A due digest is enqueued once per (conversation, period) through the real outbox, on
SQLite and PostgreSQL, with the view it carries (open alerts read from the same store);
schedules are stored per conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.alerts.rules import load_rules
from bot.ask.catalog import Catalog
from bot.health.delivery import digest_key, send_digest
from bot.health.open_alerts import OpenAlertSource
from bot.health.schedule import DigestSchedule, parse_digest, subscription_of
from bot.health.scheduler import DigestScheduler
from bot.health.service import HealthService
from bot.models import (
    AlertEventKind,
    AlertStatus,
    ChannelKind,
    ConversationRef,
    DigestSubscription,
)
from bot.store.sql import SqlStore
from bot.views.digest import DigestView, digest_of
from bot.workspace.demo import DemoManifest
from bot.workspace.local import LocalWorkspace
from tests.health.conftest import NOW, Raw
from tests.store.factories import alert
from tests.support.alerting import CATALOG, opened_store

CONVERSATION = "19:ops@thread.tacv2"


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with opened_store(request.param, tmp_path) as opened:
        await opened.upsert_conversation(
            ConversationRef(
                conversation_id=CONVERSATION,
                channel=ChannelKind.TEAMS,
                kind="channel",
                reference={"conversation": {"id": CONVERSATION}},
                updated_at=NOW,
            )
        )
        yield opened


def subscription(text: str, at: datetime = NOW) -> DigestSubscription:
    schedule = parse_digest(text).schedule
    assert schedule is not None
    return subscription_of(
        schedule, conversation_id=CONVERSATION, channel=ChannelKind.TEAMS,
        created_by="admin", created_at=at,
    )  # fmt: skip


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_a_digest_is_enqueued_once_per_period(
    store: SqlStore, health_demo: tuple[LocalWorkspace, DemoManifest, Raw], health_catalog: Catalog
) -> None:
    workspace, manifest, _ = health_demo
    clock = Clock(NOW + timedelta(seconds=1))  # 08:00:01 UTC
    health = HealthService(workspace=workspace, catalog=health_catalog, clock=clock)
    sub = subscription("daily 08:00")
    await store.save_digest(sub)
    assert await store.list_digests() == [sub]
    woken: list[int] = []
    digests = DigestScheduler(
        store=store, health=health, clock=clock, on_enqueued=lambda: woken.append(1)
    )
    assert await digests.run(sub) is True
    assert await digests.run(sub) is False  # a second replica, or a restart: same key
    clock.now += timedelta(hours=23)  # 07:00 the next day: still the same period
    assert await send_digest(store, health, sub, now=clock.now) is False
    (item,) = await store.list_outbox(conversation_id=CONVERSATION)
    assert item.idempotency_key == f"digest:{CONVERSATION}:2026-11-18"
    assert item.event.kind is AlertEventKind.DIGEST
    view = digest_of(item.event)
    assert isinstance(view, DigestView)
    spike = next(job for job in view.jobs if job.job_id == manifest.failure_spike_job_id)
    assert spike.failure == 25
    assert woken == [1]
    clock.now += timedelta(hours=1, minutes=1)  # 08:01 the next day: a new period
    assert await digests.catch_up() == 1
    keys = [i.idempotency_key for i in await store.list_outbox(conversation_id=CONVERSATION)]
    assert keys == [item.idempotency_key, f"digest:{CONVERSATION}:2026-11-19"]


async def test_schedules_are_replaced_removed_and_go_with_the_conversation(
    store: SqlStore,
) -> None:
    await store.save_digest(subscription("daily 08:00 Europe/Berlin"))
    weekly = subscription("weekly fri 16:30 America/New_York")
    await store.save_digest(weekly)
    assert await store.list_digests() == [weekly]
    assert await store.delete_digest(CONVERSATION) is True
    assert await store.delete_digest(CONVERSATION) is False
    await store.save_digest(weekly)
    await store.delete_conversation(CONVERSATION)
    assert await store.list_digests() == []


def test_keys_name_the_conversation_and_the_local_date() -> None:
    berlin = DigestSchedule("daily", datetime(2026, 1, 1, 8).time(), "Europe/Berlin")
    late = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)  # already the 19th in Berlin, 00:30
    assert digest_key("c", berlin, late) == "digest:c:2026-11-18"
    assert digest_key("c", berlin, late + timedelta(hours=8)) == "digest:c:2026-11-19"


async def test_the_enqueued_digest_carries_the_open_alerts_and_governance_changes(
    store: SqlStore, health_demo: tuple[LocalWorkspace, DemoManifest, Raw], health_catalog: Catalog
) -> None:
    workspace, _, _ = health_demo
    rules = {rule.id: rule for rule in load_rules([CATALOG])}
    await store.save_alert(alert(7, rule_id="provisioning-job-silent"))
    await store.save_alert(alert(8, rule_id="provisioning-job-silent", job="job-2",
                                 status=AlertStatus.RESOLVED, resolved_at=NOW))  # fmt: skip
    health = HealthService(
        workspace=workspace,
        catalog=health_catalog,
        clock=lambda: NOW,
        alerts=OpenAlertSource(store=store, rule=rules.get),
    )
    assert await send_digest(store, health, subscription("daily 08:00"), now=NOW) is True
    (item,) = await store.list_outbox(conversation_id=CONVERSATION)
    view = digest_of(item.event)
    assert view is not None
    assert view.open_alerts is not None
    assert view.open_alerts.total == 1
    ((level, ids),) = [(g.severity.level, [r.alert_id for r in g.alerts])
                       for g in view.open_alerts.groups]  # fmt: skip
    assert (level, ids) == (1, ["7"])
    assert view.governance is not None
    assert sum(change.count for change in view.governance.changes) == 7  # planted in the day
