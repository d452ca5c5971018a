"""The digest's open alerts, read from a real store (SQLite and PostgreSQL) through the store's
alert interface: grouped by severity, most severe first, newest first in each, with who
acknowledged and until when snoozed; resolved alerts left out; the rest counted; and
halved with "…and N more" when the message must shrink."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules
from bot.health.open_alerts import OpenAlertSource, open_alerts
from bot.models import AlertInstance, AlertStatus, Transition, fingerprint
from bot.store.sql import SqlStore
from tests.support.alerting import CATALOG, opened_store

NOW = datetime(2026, 11, 18, 8, tzinfo=UTC)
RULES = {rule.id: rule for rule in load_rules([CATALOG])}
#: Severity 1 in config/rules.
SILENT = "provisioning-job-silent"
#: Severity 2.
SPIKE = "provisioning-failure-spike"
#: Severity 3.
REVIEW = "access-review-deleted"


def stored(alert_id: int, rule_id: str, status: AlertStatus, hours_ago: int) -> AlertInstance:
    dimensions = {"JobId": f"job-{alert_id}"}
    opened = NOW - timedelta(hours=hours_ago)
    history = [Transition(at=opened, from_status=None, to_status=AlertStatus.FIRING)]
    fields: dict[str, Any] = {}
    if status in (AlertStatus.ACKNOWLEDGED, AlertStatus.SNOOZED):
        acked = Transition(
            at=opened + timedelta(minutes=5),
            from_status=AlertStatus.FIRING,
            to_status=AlertStatus.ACKNOWLEDGED,
            actor=f"oid-{alert_id}",
            actor_name=f"Admin {alert_id}",
        )
        history.append(acked)
        fields = {"acknowledged_by": acked.actor, "acknowledged_at": acked.at}
    if status is AlertStatus.SNOOZED:
        fields["snoozed_until"] = NOW + timedelta(hours=alert_id)
    if status is AlertStatus.RESOLVED:
        fields["resolved_at"] = NOW - timedelta(minutes=1)
    return AlertInstance(
        id=alert_id,
        fingerprint=fingerprint(rule_id, dimensions),
        rule_id=rule_id,
        dimensions=dimensions,
        status=status,
        value=5.0,
        threshold=0.0,
        opened_at=opened,
        last_evaluated_at=NOW,
        history=history,
        **fields,
    )


#: (id, rule, status, opened hours ago).
ALERTS = (
    (1, SILENT, AlertStatus.FIRING, 9),
    (2, SILENT, AlertStatus.ACKNOWLEDGED, 7),
    (3, SILENT, AlertStatus.SNOOZED, 5),
    (4, SILENT, AlertStatus.FIRING, 3),
    (5, SILENT, AlertStatus.FIRING, 1),
    (6, SPIKE, AlertStatus.ACKNOWLEDGED, 2),
    (7, SPIKE, AlertStatus.RESOLVED, 1),
    (8, REVIEW, AlertStatus.SNOOZED, 4),
    (9, "a-rule-removed-since", AlertStatus.FIRING, 6),
)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SqlStore]:
    async with opened_store(request.param, tmp_path) as opened:
        for alert_id, rule_id, status, hours in ALERTS:
            await opened.save_alert(stored(alert_id, rule_id, status, hours))
        yield opened


def rule(rule_id: str) -> Rule | None:
    return RULES.get(rule_id)


async def test_open_alerts_are_grouped_by_severity_with_their_status(store: SqlStore) -> None:
    section = await OpenAlertSource(store=store, rule=rule).read(top=3)
    assert section.total == 8  # the resolved one is not open
    assert section.note == ""
    assert [(g.severity.level, g.count) for g in section.groups] == [(1, 5), (2, 1), (3, 1), (4, 1)]
    first = section.groups[0]
    assert [row.alert_id for row in first.alerts] == ["5", "4", "3"]  # newest first
    assert first.more_note == "…and 2 more alerts"
    snoozed = first.alerts[2]
    assert (snoozed.state, snoozed.at) == (AlertStatus.SNOOZED, NOW + timedelta(hours=3))
    (acked,) = section.groups[1].alerts
    assert (acked.state, acked.actor) == (AlertStatus.ACKNOWLEDGED, "Admin 6")
    assert acked.title.startswith(RULES[SPIKE].title)
    assert section.groups[1].more_note == ""
    (unknown,) = section.groups[3].alerts
    assert unknown.title.startswith("a-rule-removed-since")


async def test_every_open_alert_is_listed_when_few(store: SqlStore) -> None:
    section = await OpenAlertSource(store=store, rule=rule).read(top=10)
    listed = sorted(int(row.alert_id) for g in section.groups for row in g.alerts)
    assert listed == [1, 2, 3, 4, 5, 6, 8, 9]
    assert all(g.more_note == "" for g in section.groups)


def test_no_open_alert_is_one_line() -> None:
    resolved = stored(1, SPIKE, AlertStatus.RESOLVED, 1)
    section = open_alerts([resolved], rule)
    assert (section.total, section.groups, section.note) == (0, (), "No open alerts.")
    assert section.shrink() is None


def test_shrinking_halves_each_severity_and_counts_the_rest() -> None:
    alerts = [stored(n, SILENT, AlertStatus.FIRING, n) for n in range(1, 9)]
    alerts += [stored(n, SPIKE, AlertStatus.FIRING, n) for n in range(10, 12)]
    section = open_alerts(alerts, rule, top=8)
    smaller = section.shrink()
    assert smaller is not None
    assert [len(g.alerts) for g in smaller.groups] == [4, 1]
    assert [g.more_note for g in smaller.groups] == ["…and 4 more alerts", "…and 1 more alert"]
    smallest = smaller
    while (next_one := smallest.shrink()) is not None:
        smallest = next_one
    assert [len(g.alerts) for g in smallest.groups] == [1, 1]
    assert smallest.groups[0].more_note == "…and 7 more alerts"
    assert smallest.total == 10
