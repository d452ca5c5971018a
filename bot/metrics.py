"""The bot's own metrics for Prometheus (`GET /metrics`): one registry per app, built in
create_app, never module globals.

What is counted where:
- evaluations by rule and outcome (ok, query_failed, slot_taken: another replica wrote
  that slot), their duration, and each rule's last successful evaluation time (for an
  external dead man's switch): the scheduler's evaluate (`observe_evaluation`);
- query duration: every workspace query (`TimedWorkspace`);
- deliveries by channel and outcome, and throttling (429) answers: every outbox
  delivery (`CountingNotifier`);
- alerts by status, outbox depth and oldest pending item's age: read from the store
  when scraped (`refresh`), so every replica reports the shared state;
- claim takeovers by kind (slot, conversation, writeback): a claim another replica held
  and lost, taken over here (told by the store, `count_takeover`);
- the rule set in force (its content hash as a label: replicas with different sets show
  up as different values), and process information.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import get_args

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.alerts.rule_model import Rule
from bot.models import AlertStatus, OutboxItem, OutboxStatus
from bot.notify.base import DeliveryResult, Notifier
from bot.store.base import Store, TakeoverKind
from bot.workspace.base import QueryResult, TimeSpan, Workspace

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_DURATIONS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180)


def rule_set_hash(rules: Sequence[Rule]) -> str:
    """A digest of the rules' content, the same on every replica that loaded the same set."""
    canonical = json.dumps(
        [rule.model_dump(mode="json") for rule in sorted(rules, key=lambda r: r.id)],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class BotMetrics:
    """Every metric of one bot process, in its own registry."""

    def __init__(self, *, replica: str) -> None:
        self.replica = replica
        self.registry = CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        Info("alertbot_replica", "This process", registry=r).info({"worker": replica})
        self.evaluations = Counter(
            "alertbot_evaluations", "Rule evaluations", ["rule", "outcome"], registry=r
        )
        self.evaluation_seconds = Histogram(
            "alertbot_evaluation_duration_seconds",
            "One evaluation, query to commit",
            ["rule"],
            buckets=_DURATIONS,
            registry=r,
        )
        self.query_seconds = Histogram(
            "alertbot_query_duration_seconds",
            "One workspace query",
            buckets=_DURATIONS,
            registry=r,
        )
        self.last_success = Gauge(
            "alertbot_rule_last_success_timestamp_seconds",
            "When each rule last evaluated successfully (its slot time)",
            ["rule"],
            registry=r,
        )
        self.deliveries = Counter(
            "alertbot_deliveries", "Outbox deliveries", ["channel", "outcome"], registry=r
        )
        self.throttled = Counter(
            "alertbot_throttled",
            "Deliveries the platform throttled (429)",
            ["channel"],
            registry=r,
        )
        self.maybe_sent = Counter(
            "alertbot_maybe_sent",
            "Posts whose answer was lost, reconciled on redelivery (adopted or reposted)",
            ["channel", "outcome"],
            registry=r,
        )
        self.alerts = Gauge(
            "alertbot_alerts", "Alerts not resolved, by status", ["status"], registry=r
        )
        self.outbox_depth = Gauge("alertbot_outbox_depth", "Pending deliveries", registry=r)
        self.outbox_oldest = Gauge(
            "alertbot_outbox_oldest_age_seconds",
            "Age of the oldest pending delivery",
            registry=r,
        )
        self.takeovers = Counter(
            "alertbot_claim_takeovers",
            "Claims taken over from another replica whose lease ran out or whose cycle died",
            ["kind"],
            registry=r,
        )
        for kind in get_args(TakeoverKind):
            self.takeovers.labels(kind=kind)  # shown at 0 before the first
        self.rule_set = Gauge(
            "alertbot_rule_set_info",
            "The rule set in force (1 for its hash)",
            ["hash"],
            registry=r,
        )
        self._hash: str | None = None

    def set_rules(self, rules: Sequence[Rule]) -> str:
        digest = rule_set_hash(rules)
        if self._hash is not None:
            self.rule_set.remove(self._hash)
        self.rule_set.labels(hash=digest).set(1)
        self._hash = digest
        return digest

    def count_takeover(self, kind: TakeoverKind, previous: str) -> None:
        """The store's TakeoverHook."""
        self.takeovers.labels(kind=kind).inc()

    def observe_evaluation(
        self, rule_id: str, *, outcome: str, seconds: float, slot_at: datetime | None
    ) -> None:
        self.evaluations.labels(rule=rule_id, outcome=outcome).inc()
        self.evaluation_seconds.labels(rule=rule_id).observe(seconds)
        if outcome == "ok" and slot_at is not None:
            self.last_success.labels(rule=rule_id).set(slot_at.timestamp())

    async def refresh(self, store: Store, *, now: datetime) -> None:
        """The shared state, read from the store at scrape time."""
        open_alerts = await store.list_alerts(open_only=True)
        for status in AlertStatus:
            if status is not AlertStatus.RESOLVED:
                count = sum(1 for alert in open_alerts if alert.status is status)
                self.alerts.labels(status=status.value).set(count)
        pending = await store.list_outbox(status=OutboxStatus.PENDING)
        self.outbox_depth.set(len(pending))
        oldest = min((item.event.at for item in pending), default=None)
        self.outbox_oldest.set(0 if oldest is None else max(0.0, (now - oldest).total_seconds()))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class TimedWorkspace:
    """A workspace whose queries are timed."""

    def __init__(self, inner: Workspace, metrics: BotMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def query(self, kql: str, *, timespan: TimeSpan) -> QueryResult:
        started = time.perf_counter()
        try:
            return await self._inner.query(kql, timespan=timespan)
        finally:
            self._metrics.query_seconds.observe(time.perf_counter() - started)

    async def close(self) -> None:
        await self._inner.close()


class CountingNotifier:
    """A notifier whose deliveries are counted by channel and outcome."""

    def __init__(self, inner: Notifier, metrics: BotMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    async def deliver(self, item: OutboxItem) -> DeliveryResult:
        result = await self._inner.deliver(item)
        channel = item.channel.value
        self._metrics.deliveries.labels(channel=channel, outcome=result.outcome).inc()
        if result.outcome == "retry" and "429" in (result.reason or ""):
            self._metrics.throttled.labels(channel=channel).inc()
        if result.reconciled is not None:
            self._metrics.maybe_sent.labels(channel=channel, outcome=result.reconciled).inc()
        return result
