"""Restarting the bot mid-cycle loses nothing and duplicates nothing: a real process, a real
database file, `kill -9`.

The server (`python -m bot serve`) runs the catalog on the demo workspace pinned at
DEMO_NOW, first runs spread over a few seconds, with the file notifier, which appends one
JSON line per delivery: what was told to whom is seen from outside the process. It is
killed right after its first deliveries, while some rules have not run yet, then started
again on the same database, and stopped once every rule has run and the outbox is empty.
A delivery made but not yet marked sent when the process died is made again (at least
once); the line's key tells the two apart.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.models import AlertEventKind, OutboxStatus
from bot.store.sql import open_store
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url, subscribe

pytestmark = pytest.mark.slow

RULES = 13
#: Needs 2 of 2 failing evaluations, 30 minutes apart: it does not fire within the test.
SLOW_TO_FIRE = "provisioning-job-silent"
#: Provisioning rules of severity 1 or more severe that fire at DEMO_NOW.
CRITICAL_PROVISIONING = {"provisioning-job-failure-spike", "provisioning-disable-delete-spike"}


class Bot:
    """The server process, its log, and what it delivered."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database = workdir / "alertbot.db"
        self.deliveries = workdir / "deliveries.jsonl"
        self.port = _free_port()
        self.runs = 0
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_")}
        return inherited | {
            "ALERTBOT_DEMO_NOW": DEMO_NOW.isoformat(),
            "ALERTBOT_DATABASE_URL": sqlite_url(self.database),
            "ALERTBOT_RULES_PATH": str(self.workdir / "rules"),
            "ALERTBOT_SCHEDULER_SPREAD_SECONDS": "6",
            "ALERTBOT_RULES_RELOAD_SECONDS": "0",
            "ALERTBOT_NOTIFIER": "file",
            "ALERTBOT_NOTIFIER_FILE": str(self.deliveries),
            "ALERTBOT_OUTBOX_LEASE_SECONDS": "2",
            "ALERTBOT_PORT": str(self.port),
        }

    def start(self) -> None:
        self.runs += 1
        log = (self.workdir / f"run-{self.runs}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=self.workdir,
            env=self.env(),
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

    def lines(self) -> list[dict[str, Any]]:
        if not self.deliveries.exists():
            return []
        return [json.loads(line) for line in self.deliveries.read_text().splitlines()]

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


async def _seed(database: Path) -> None:
    store = await open_store(sqlite_url(database))
    await subscribe(store, "ops", "all")
    await subscribe(store, "prov-critical", "Provisioning", max_severity=1)
    await subscribe(store, "quiet", "Multitenant collaboration", max_severity=1)
    await store.close()


@pytest.fixture
def bot(tmp_path: Path) -> Iterator[Bot]:
    shutil.copytree(CATALOG, tmp_path / "rules", ignore=shutil.ignore_patterns("*.md"))
    asyncio.run(_seed(tmp_path / "alertbot.db"))
    running = Bot(tmp_path)
    yield running
    if running.process is not None and running.process.poll() is None:
        running.kill()


def test_a_restart_mid_cycle_loses_nothing_and_duplicates_nothing(bot: Bot) -> None:
    bot.start()
    wait_until(lambda: len(bot.lines()) >= 3, bot, "the first deliveries", timeout=20)
    bot.kill()
    evaluated_before = len(bot.query("SELECT rule_id FROM rule_health"))
    delivered_before = len(bot.lines())
    unsent_before = bot.query("SELECT count(*) FROM outbox WHERE status != 'sent'")[0][0]
    assert 0 < evaluated_before < RULES, "the kill should land mid-cycle"

    bot.start()
    wait_until(lambda: bot.ready() == 200, bot, "readiness after the restart", timeout=20)
    wait_until(lambda: _done(bot), bot, "every rule evaluated and delivered", timeout=25)
    assert bot.stop() == 0

    items, alerts = asyncio.run(_read_store(bot.database))
    lines = bot.lines()
    print(
        f"\nrestart: before kill -9, {evaluated_before}/{RULES} rules evaluated, "
        f"{delivered_before} deliveries made, {unsent_before} queued but not marked sent; "
        f"in the end {len(lines)} deliveries of {len(items)} items "
        f"({len(lines) - len(items)} repeated)"
    )

    # Every (event, conversation) was delivered at least once, and is sent once in the store.
    assert {item.status for item in items} == {OutboxStatus.SENT}
    keys = [(item.conversation_id, item.idempotency_key) for item in items]
    assert len(set(keys)) == len(keys)
    delivered = Counter((line["conversation_id"], line["key"]) for line in lines)
    assert set(delivered) == set(keys)

    # Alert ids are unique, no problem has two open alerts, and every alert was announced.
    ids = [alert.id for alert in alerts]
    assert len(set(ids)) == len(ids)
    assert len({alert.fingerprint for alert in alerts}) == len(alerts)
    firing_rules = {alert.rule_id for alert in alerts}
    assert firing_rules == _all_rule_ids(bot) - {SLOW_TO_FIRE}
    assert {item.event.kind for item in items} == {AlertEventKind.FIRED}
    told = {(item.conversation_id, item.event.alert.id) for item in items if item.event.alert}
    assert told == {("ops", alert.id) for alert in alerts} | {
        ("prov-critical", alert.id) for alert in alerts if alert.rule_id in CRITICAL_PROVISIONING
    }


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
