"""Restarting the bot mid-delivery loses nothing and duplicates nothing: a real process, a
real database file, `kill -9` while a delivery is provably in flight.

The server (`python -m bot serve`) runs the catalog on the demo workspace pinned at
DEMO_NOW, first runs spread over a few seconds, and posts alert cards through its real
Teams notifier to a fake Bot Connector on loopback (tests/channels/teams/fake_connector.py,
which follows the Bot Connector REST API). The connector answers the first posts, then
holds the next one unanswered: that delivery is in flight, and the process is killed
then. It is started again on the same database and stopped once every rule has run and
the outbox is empty.

Every card the connector accepted is counted by (channel, alert): each must be there
exactly once. The held post was never accepted, so it must be made again after the
restart (once its lease expires), and it must not have been marked sent before it was.
Two deliberate bugs, injected into the spawned process by tests/support/faulty_serve.py,
show that the test catches what it is for: every delivery made twice, and items marked
sent before they are delivered.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot import messages
from bot.models import AlertEventKind, ChannelKind, OutboxStatus, Subscription
from bot.store.sql import open_store
from tests.channels.teams.fake_connector import FakeConnector
from tests.support.alerting import CATALOG, DEMO_NOW, ROOT, sqlite_url, teams_channel

pytestmark = pytest.mark.slow

RULES = 13
#: Needs 2 of 2 failing evaluations, 30 minutes apart. The demo clock starts at DEMO_NOW
#: and runs: a start evaluates the slot before it and, a few seconds later, the slot just
#: after it (its offset in the period), so whether it fires within the test depends on
#: timing. It may fire, once, or not at all.
SLOW_TO_FIRE = "provisioning-job-silent"
#: Provisioning rules of severity 1 or more severe that fire at DEMO_NOW.
CRITICAL_PROVISIONING = {
    "provisioning-job-failure-spike",
    "provisioning-disable-delete-spike",
    SLOW_TO_FIRE,
}
OPS, PROV_CRITICAL, QUIET = (
    f"19:{name}@thread.tacv2" for name in ("ops", "prov-critical", "quiet")
)
#: Posts answered before one is held.
ANSWERED_BEFORE_THE_HOLD = 3
#: The outbox lease: the held item is claimed again once it expires. The Teams notifier's
#: time for one delivery is a share of it (lease / batch * 0.8 = 2.4 s, over its 2 s minimum).
LEASE_SECONDS = 30

Key = tuple[str, int]


class HoldingConnector(FakeConnector):
    """The fake Bot Connector; the channel post after the first `answer_first` is held
    unanswered (the delivery in flight), every later one is answered again."""

    def __init__(self, *, answer_first: int) -> None:
        super().__init__()
        self.answer_first = answer_first
        self.held: dict[str, Any] | None = None
        self.holding = threading.Event()

    async def _create(self, request: web.Request) -> web.Response:
        if self.held is None and len(self.of_kind("create")) >= self.answer_first:
            self.held = await request.json()
            self.holding.set()
            await asyncio.sleep(3600)  # never answered: the bot is killed meanwhile
        return await super()._create(request)

    def accepted(self, *, announced: bool = True) -> Counter[Key]:
        """How many times each (channel, alert) card was posted and answered; without the
        posts made again with the line saying they may repeat an earlier one, unless
        `announced`."""
        return Counter(
            card_key(call.body)
            for call in self.of_kind("create")
            if announced or not _announces_a_repeat(call.body)
        )


def _announces_a_repeat(body: dict[str, Any]) -> bool:
    """The post says it may repeat a card posted just before (bot.messages.maybe_repeated:
    Teams accepted an earlier post whose answer was lost, e.g. at the kill)."""
    return bool(body["activity"].get("text") == messages.maybe_repeated())


def card_key(body: dict[str, Any]) -> Key:
    """(channel, alert id) of a channel post carrying an alert card."""
    channel: str = body["channelData"]["channel"]["id"]
    return channel, _alert_id(body["activity"])


def _alert_id(value: Any) -> int:
    if isinstance(value, dict):
        if isinstance(value.get("alertId"), int):
            return int(value["alertId"])
        found = [_alert_id(v) for v in value.values()]
    elif isinstance(value, list):
        found = [_alert_id(v) for v in value]
    else:
        return 0
    return max(found, default=0)


@contextmanager
def on_loopback(fake: FakeConnector) -> Iterator[str]:
    """Serve `fake` on a free loopback port from a thread of its own; yields its URL."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner = web.AppRunner(fake.app(), shutdown_timeout=1)

    async def start() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()

    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class Bot:
    """The server process, its log, and what it delivered."""

    def __init__(self, workdir: Path, *, fault: str | None = None) -> None:
        self.workdir = workdir
        self.database = workdir / "alertbot.db"
        self.port = _free_port()
        self.fault = fault
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at: float | None = None

    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_")}
        return inherited | {
            "ALERTBOT_DEMO_NOW": self.demo_now().isoformat(),
            "ALERTBOT_DATABASE_URL": sqlite_url(self.database),
            "ALERTBOT_RULES_PATH": str(self.workdir / "rules"),
            "ALERTBOT_SCHEDULER_SPREAD_SECONDS": "6",
            "ALERTBOT_RULES_RELOAD_SECONDS": "0",
            "ALERTBOT_NOTIFIER": "teams",
            "ALERTBOT_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
            "ALERTBOT_PORT": str(self.port),
            "RESTART_TEST_FAULT": self.fault or "",
            "PYTHONPATH": str(ROOT),
        }

    def demo_now(self) -> datetime:
        """DEMO_NOW at the first start; a restart goes on from where time has come to (the
        store's leases and due times are in the demo's time)."""
        if self.started_at is None:
            return DEMO_NOW
        return DEMO_NOW + timedelta(seconds=time.monotonic() - self.started_at)

    def start(self) -> None:
        self.runs += 1
        log = (self.workdir / f"run-{self.runs}.log").open("wb")
        command = ["-m", "tests.support.faulty_serve"] if self.fault else ["-m", "bot", "serve"]
        env = self.env()
        self.started_at = self.started_at or time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, *command],
            cwd=self.workdir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(15)

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql).fetchall()

    def ready(self) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=3) as r:
                return int(r.status)
        except OSError:
            return 0

    def log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.workdir.glob("run-*.log")))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], bot: Bot, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        assert bot.process is not None
        if bot.process.poll() is not None:
            pytest.fail(f"the bot exited ({bot.process.returncode}) before {what}:\n{bot.log()}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}:\n{bot.log()[-5000:]}")


async def _seed(database: Path, service_url: str) -> None:
    store = await open_store(sqlite_url(database))
    for conversation_id, target, severity in (
        (OPS, "all", 4),
        (PROV_CRITICAL, "Provisioning", 1),
        (QUIET, "Multitenant collaboration", 1),
    ):
        await store.upsert_conversation(teams_channel(conversation_id, service_url))
        await store.subscribe(
            Subscription(
                conversation_id=conversation_id,
                channel=ChannelKind.TEAMS,
                target=target,
                max_severity=severity,
                created_by="admin",
                created_at=DEMO_NOW,
            )
        )
    await store.close()


@dataclass
class Run:
    """What one run with a kill in flight showed, and what it got wrong."""

    evaluated_before: int = 0
    held: Key | None = None
    held_status: str | None = None
    accepted: Counter[Key] = field(default_factory=Counter)
    unannounced: Counter[Key] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def connector() -> Iterator[tuple[HoldingConnector, str]]:
    fake = HoldingConnector(answer_first=ANSWERED_BEFORE_THE_HOLD)
    with on_loopback(fake) as url:
        yield fake, url


@pytest.fixture
def workdir(tmp_path: Path, connector: tuple[HoldingConnector, str]) -> Path:
    shutil.copytree(CATALOG, tmp_path / "rules", ignore=shutil.ignore_patterns("*.md"))
    asyncio.run(_seed(tmp_path / "alertbot.db", connector[1]))
    return tmp_path


def restart_in_flight(workdir: Path, fake: HoldingConnector, fault: str | None = None) -> Run:
    """Start, kill -9 while a post is held, start again, let everything finish; check."""
    bot = Bot(workdir, fault=fault)
    try:
        return _restart_in_flight(bot, fake)
    finally:
        if bot.process is not None and bot.process.poll() is None:
            bot.kill()


def _restart_in_flight(bot: Bot, fake: HoldingConnector) -> Run:
    run = Run()
    bot.start()
    wait_until(fake.holding.is_set, bot, "a post held in flight", timeout=60)
    bot.kill()
    assert fake.held is not None
    run.held = card_key(fake.held)
    run.held_status = _status(bot, run.held)
    run.evaluated_before = len(bot.query("SELECT rule_id FROM rule_health"))
    before = sum(fake.accepted().values())

    bot.start()
    wait_until(lambda: bot.ready() == 200, bot, "readiness after the restart", timeout=60)
    wait_until(lambda: _done(bot), bot, "every rule evaluated and delivered", LEASE_SECONDS + 30)
    assert bot.stop() == 0
    run.accepted = fake.accepted()
    run.unannounced = fake.accepted(announced=False)
    print(
        f"\nrestart{f' ({bot.fault})' if bot.fault else ''}: before kill -9, "
        f"{run.evaluated_before}/{RULES} rules evaluated, {before} cards accepted, post of "
        f"{run.held} in flight (outbox: {run.held_status}); in the end "
        f"{sum(run.accepted.values())} cards accepted for {len(run.accepted)} (channel, alert)"
    )
    items, alerts = asyncio.run(_read_store(bot.database))
    run.problems = _problems(run, items, alerts, _all_rule_ids(bot))
    return run


def _problems(run: Run, items: list[Any], alerts: list[Any], rule_ids: set[str]) -> list[str]:
    problems = []
    if not 0 < run.evaluated_before < RULES:
        problems.append(f"the kill did not land mid-cycle ({run.evaluated_before} rules run)")
    if run.held_status != OutboxStatus.PENDING.value:
        problems.append(f"the item in flight at the kill was {run.held_status}, not pending")
    if run.held not in run.accepted:
        problems.append(f"the post in flight at the kill, {run.held}, was never made again")
    # A post the connector accepted while the process was killed, before the outbox
    # recorded it, is made again with a line saying it may repeat (Teams has no
    # idempotency key for bots): that one is told, so only unannounced repeats count.
    twice = sorted(key for key, count in run.unannounced.items() if count > 1)
    if twice:
        problems.append(f"cards posted more than once: {twice}")
    if any(count > 2 for count in run.accepted.values()):
        problems.append(f"cards posted more than twice: {run.accepted}")
    if {item.status for item in items} != {OutboxStatus.SENT}:
        problems.append("not every outbox item is marked sent")
    told = {(item.conversation_id, item.event.alert.id) for item in items if item.event.alert}
    if set(run.accepted) != told:
        problems.append(f"cards never posted: {sorted(told - set(run.accepted))}")
    problems += _alert_problems(items, alerts, rule_ids)
    return problems


def _alert_problems(items: list[Any], alerts: list[Any], rule_ids: set[str]) -> list[str]:
    """Alert ids are unique, no problem has two open alerts, every alert was announced to
    the conversations subscribed to it, and to no other."""
    problems = []
    ids = [alert.id for alert in alerts]
    if len(set(ids)) != len(ids) or len({a.fingerprint for a in alerts}) != len(alerts):
        problems.append("duplicate alerts")
    fired, due = {alert.rule_id for alert in alerts}, rule_ids - {SLOW_TO_FIRE}
    if not due <= fired <= rule_ids:
        problems.append(
            f"not every rule fired once: {sorted(due - fired)} did not, "
            f"{sorted(fired - rule_ids)} are not rules"
        )
    if {item.event.kind for item in items} != {AlertEventKind.FIRED}:
        problems.append(f"unexpected events: {sorted({i.event.kind for i in items})}")
    told = {(item.conversation_id, item.event.alert.id) for item in items if item.event.alert}
    expected = {(OPS, alert.id) for alert in alerts} | {
        (PROV_CRITICAL, alert.id) for alert in alerts if alert.rule_id in CRITICAL_PROVISIONING
    }
    if told != expected:
        problems.append(f"told {sorted(told ^ expected)} wrongly")
    return problems


def test_a_restart_with_a_delivery_in_flight_loses_nothing_and_duplicates_nothing(
    workdir: Path, connector: tuple[HoldingConnector, str]
) -> None:
    run = restart_in_flight(workdir, connector[0])
    assert run.problems == []
    # Each card once, but for a post Teams accepted as the process was killed, before the
    # outbox recorded it: that one is made again, saying it may repeat (by design).
    repeated = {key for key, count in run.accepted.items() if count > 1}
    assert all(run.unannounced[key] == 1 for key in repeated), run.accepted
    assert len(run.accepted) > ANSWERED_BEFORE_THE_HOLD


@pytest.mark.parametrize(
    ("fault", "caught"),
    [
        ("deliver-twice", ["cards posted more than once"]),
        (
            "sent-before-delivery",
            ["the item in flight at the kill was sent, not pending", "was never made again"],
        ),
    ],
)
def test_the_restart_test_catches_a_deliberate_bug(
    workdir: Path, connector: tuple[HoldingConnector, str], fault: str, caught: list[str]
) -> None:
    run = restart_in_flight(workdir, connector[0], fault=fault)
    for problem in caught:
        assert any(problem in found for found in run.problems), run.problems


def _status(bot: Bot, key: Key) -> str | None:
    conversation_id, alert_id = key
    rows = bot.query(
        f"SELECT status FROM outbox WHERE conversation_id = '{conversation_id}' "
        f"AND alert_id = {alert_id:d}"
    )
    return str(rows[0][0]) if rows else None


def _done(bot: Bot) -> bool:
    evaluated = bot.query("SELECT count(*) FROM rule_health")[0][0]
    pending = bot.query("SELECT count(*) FROM outbox WHERE status != 'sent'")[0][0]
    return bool(evaluated == RULES and pending == 0)


def _all_rule_ids(bot: Bot) -> set[str]:
    return {row[0] for row in bot.query("SELECT rule_id FROM rule_health")}


async def _read_store(database: Path) -> tuple[list[Any], list[Any]]:
    store = await open_store(sqlite_url(database))
    try:
        return await store.list_outbox(), await store.list_alerts(open_only=False)
    finally:
        await store.close()
