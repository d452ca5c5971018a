"""The real app, built by create_app(settings) and called over HTTP: health, readiness, the
refusal to start on invalid rules, and alerts flowing from the scheduler to a notifier."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from bot.app import create_app
from bot.cli import main
from bot.errors import ConfigError
from bot.models import AlertEventKind
from bot.notify import RecordingNotifier
from bot.settings import Settings
from bot.store.sql import open_store
from tests.support.alerting import CATALOG, DEMO_NOW, sqlite_url, subscribe

Client = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env


def settings(tmp_path: Path, **overrides: Any) -> Settings:
    fields: dict[str, Any] = {
        "database_url": sqlite_url(tmp_path / "alertbot.db"),
        "rules_path": CATALOG,
        "demo_now": DEMO_NOW,
        "rules_reload_seconds": 0,
        # First runs spread over the rules' frequency (15 min): none runs during a test.
        "scheduler_spread_seconds": 3600,
    }
    fields.update(overrides)
    return Settings(_env_file=None, **fields)


async def test_healthz_and_readyz(aiohttp_client: Client, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(settings(tmp_path)))

    health = await client.get("/healthz")
    ready = await client.get("/readyz")

    assert (health.status, await health.json()) == (200, {"status": "ok"})
    body = await ready.json()
    assert ready.status == 200
    assert body["status"] == "ready"
    assert body["failed"] == []
    assert body["checks"]["store"] == "ok"
    assert body["checks"]["rules"].startswith("14 rules loaded")
    assert body["checks"]["scheduler"] == "running"


async def test_readyz_without_the_scheduler(aiohttp_client: Client, tmp_path: Path) -> None:
    client = await aiohttp_client(create_app(settings(tmp_path, scheduler_enabled=False)))
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert (await ready.json())["checks"]["scheduler"] == "disabled"


class StuckWriter:
    """Another connection holding SQLite's exclusive lock, as a stuck writer would."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(
            path, isolation_level=None, timeout=10, check_same_thread=False
        )

    async def lock(self) -> None:
        # On a thread: the bot's own short transactions (the outbox poll) may hold the lock
        # a moment, and they need the event loop to finish.
        await asyncio.to_thread(self._connection.execute, "BEGIN EXCLUSIVE")

    def unlock(self) -> None:
        self._connection.execute("ROLLBACK")


@pytest.fixture
def stuck_writer(tmp_path: Path) -> Iterator[StuckWriter]:
    writer = StuckWriter(tmp_path / "alertbot.db")
    yield writer
    writer._connection.close()


async def test_readyz_is_503_while_the_store_does_not_answer(
    aiohttp_client: Client, tmp_path: Path, stuck_writer: StuckWriter
) -> None:
    client = await aiohttp_client(create_app(settings(tmp_path)))
    await stuck_writer.lock()

    ready = await client.get("/readyz")

    assert ready.status == 503
    body = await ready.json()
    assert (body["status"], body["failed"]) == ("not ready", ["store"])
    assert body["checks"]["store"] == "unreachable"
    stuck_writer.unlock()
    assert (await client.get("/readyz")).status == 200


BROKEN_RULE = """\
rules:
  - id: broken
    title: Broken
    description: A rule with an unknown key.
    category: Provisioning
    severity: 2
    query: AADProvisioningLogs
    frequency: 15m
    window: 15m
    operator: ">"
    treshold: 0
    remediation:
      text: Fix it.
"""


def test_invalid_rules_refuse_to_start_and_say_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text(BROKEN_RULE)

    with pytest.raises(ConfigError) as refused:
        create_app(settings(tmp_path, rules_path=rules))
    assert any(
        problem.endswith(
            "broken.yaml:11:5: broken: unknown key 'treshold'; did you mean 'threshold'?"
        )
        for problem in refused.value.problems
    ), refused.value.problems

    monkeypatch.setenv("ALERTBOT_RULES_PATH", str(rules))
    monkeypatch.setenv("ALERTBOT_DATABASE_URL", sqlite_url(tmp_path / "cli.db"))
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "not starting: the rules are invalid" in err
    assert "broken.yaml:11:5: broken: unknown key 'treshold'" in err
    assert not (tmp_path / "cli.db").exists()  # nothing was opened


async def test_rules_fire_and_deliveries_reach_the_notifier(
    aiohttp_client: Client, tmp_path: Path
) -> None:
    store = await open_store(sqlite_url(tmp_path / "alertbot.db"))
    await subscribe(store, "ops", "all")
    await subscribe(store, "pim", "Privileged Identity Management")
    await store.close()
    notifier = RecordingNotifier()
    app = create_app(settings(tmp_path, scheduler_spread_seconds=0), notifier=notifier)

    await aiohttp_client(app)
    for _ in range(200):
        if len(notifier.delivered) >= 13:  # 12 rules fire at once; the silent job needs 2 of 2
            break
        await asyncio.sleep(0.05)

    fired = {(i.event.rule_id, i.conversation_id) for i in notifier.delivered}
    assert {i.event.kind for i in notifier.delivered} == {AlertEventKind.FIRED}
    assert len(fired) == len(notifier.delivered) == 13
    assert ("pim-alert-disabled", "pim") in fired
    assert {rule for rule, conversation in fired if conversation == "ops"} == {
        rule_id for rule_id, _ in fired
    } - {"provisioning-job-silent"}
