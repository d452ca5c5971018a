"""Three replicas on one PostgreSQL database: every (rule, slot) evaluated once, every
alert posted once to every subscribed conversation, and `kill -9` of the replica that is
posting in the middle of a cycle loses nothing (issue 10, item 6).

Three real `alertbot serve` processes (tests/support/replica_serve.py: rules may run
every few seconds there) share a fresh database and the same rules: three rules every
10 s whose query yields one row named after the slot it ran for, so each slot of each
rule opens one alert (fire every time) that goes to four subscribed Teams channels. The
replicas post through their real Teams notifier to a fake Bot Connector on loopback
(tests/channels/teams/fake_connector.py, which follows the Bot Connector REST API),
which counts every post.

After a cycle the connector holds a post of the first rule's slot unanswered (the card
names its slot), the first one made while that period's later slots are still to come
(on a loaded machine a fan-out can come late in its period: a later one is then held):
a fan-out is in flight. The test finds, in the
database, the replica holding that conversation's lease (and the item's), checks the
rule slots of that cycle are only partly evaluated, and kills that replica with
SIGKILL. The other two go on; the held conversation is taken over when its lease
expires (their /metrics count it). Then, from the database's slot table, the alerts,
the outbox, the connector's posts and the replicas' JSON logs: each (rule, slot)
evaluated once (one "evaluated" line across all logs), slots with no gap and the ones
after the kill evaluated within one period by the survivors, one alert per (rule, slot),
every alert posted exactly once to each conversation (the held one made again), every
log line with its replica, and those about a rule, a delivery or a takeover naming it.

`REPLICAS_TEST_FAULT=slot-claim-ignored` runs the replicas with the slot claim broken
(every replica commits every slot): the test must then fail.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.alerts.slots import slot_at, slot_offset
from bot.models import ChannelKind, OutboxStatus, Subscription
from bot.store.sql import open_store
from tests.channels.teams.fake_connector import FakeConnector
from tests.store.conftest import _probe
from tests.support.alerting import POSTGRES_URL, ROOT, teams_channel
from tests.test_restart import _announces_a_repeat, _free_port, on_loopback

pytestmark = pytest.mark.slow

PERIOD = timedelta(seconds=10)
SPREAD = timedelta(seconds=9)
#: Their slots fall 1.6 s, 4.2 s and 7.3 s into each 10 s period (bot.alerts.slots): the
#: first rule's posts go out well before the second rule's slot, so a kill then lands
#: mid-cycle. Jitter adds at most 1 s (a tenth of the period).
RULES = ("replica-alpha", "replica-delta", "replica-echo")
CONVERSATIONS = tuple(f"19:replicas-{n}@thread.tacv2" for n in range(4))
#: A conversation's lease: the survivors take the dead replica's over once it expires.
#: Teams' time for one delivery is a share of it (30 / 10 * 0.8 = 2.4 s).
LEASE_SECONDS = 30
#: A post is held only this long or more before its period's last slot, so the kill (0.3 s
#: after the hold) lands before that slot is evaluated.
MID_CYCLE_MARGIN = timedelta(seconds=1.5)
EVALUATED = re.compile(r"^rule (\S+) evaluated at (\S+):")
TOOK_OVER = re.compile(r"^took over conversation (\S+) from ")
#: The alert card's fallback text (cards/alert.json) names the alert.
CARD_ALERT = re.compile(r"\(alert (\d+), ")


def rules_file(path: Path) -> None:
    rules = [
        {
            "id": rule_id,
            "title": f"Replica test {rule_id}",
            "description": "One row a slot, named after the slot: one alert a slot.",
            "category": "Replica test",
            "severity": 2,
            "query": "print Slot = tostring(now())",
            "frequency": "10s",
            "window": "10s",
            "measure": "count",
            "operator": ">",
            "threshold": 0,
            "dimensions": ["Slot"],
            "auto_resolve": False,
            "remediation": {"text": "Nothing to do: a test rule."},
        }
        for rule_id in RULES
    ]
    path.mkdir()
    (path / "replicas.yaml").write_text(json.dumps({"rules": rules}, indent=2))


def card_key(body: dict[str, Any]) -> tuple[str, int]:
    """(conversation, alert id) of a channel post carrying an alert card."""
    channel: str = body["channelData"]["channel"]["id"]
    found = CARD_ALERT.search(json.dumps(body["activity"]))
    return channel, int(found[1]) if found else 0


def offset(rule_id: str) -> timedelta:
    return slot_offset(rule_id, frequency=PERIOD, spread=SPREAD)


class HoldingConnector(FakeConnector):
    """The fake Bot Connector; once armed with a test of a post's body (run in a worker
    thread: it may read the database), the first channel post it accepts is held
    unanswered."""

    def __init__(self) -> None:
        super().__init__()
        self.armed: Callable[[dict[str, Any]], bool] | None = None
        self.holding = threading.Event()
        self.held: dict[str, Any] | None = None

    async def _create(self, request: web.Request) -> web.Response:
        body = await request.json()
        armed = self.armed
        if armed and self.held is None and await asyncio.to_thread(armed, body):
            self.held = body
            self.holding.set()
            await asyncio.sleep(3600)  # never answered: its replica is killed meanwhile
        return await super()._create(request)

    def posted(self, *, announced: bool = True) -> Counter[tuple[str, int]]:
        """How many times each (conversation, alert) card was posted and answered; without
        the posts made again saying they may repeat an earlier one, unless `announced`."""
        return Counter(
            card_key(call.body)
            for call in self.of_kind("create")
            if announced or not _announces_a_repeat(call.body)
        )


class Replica:
    """One `alertbot serve` process and its JSON log."""

    def __init__(self, workdir: Path, name: str, env: dict[str, str]) -> None:
        self.dir = workdir / name
        self.dir.mkdir()
        self.port = _free_port()
        self.log_path = self.dir / "serve.log"
        env = env | {"ALERTBOT_PORT": str(self.port), "ALERTBOT_CACHE_DIR": str(self.dir)}
        with self.log_path.open("wb") as log, (self.dir / "serve.out").open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.support.replica_serve"],
                cwd=self.dir,
                env=env,
                stdout=out,  # "serving on ..." is said to a person; the log is stderr
                stderr=log,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return int(r.status), r.read().decode()
        except OSError:
            return 0, ""

    def lines(self) -> list[dict[str, Any]]:
        """Every line of its log, each of which must be one JSON object."""
        text = self.log_path.read_text()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@dataclass
class Database:
    url: str

    def rows(self, statement: str, *args: Any) -> list[Any]:
        async def fetch() -> list[Any]:
            dsn = self.url.replace("postgresql+asyncpg", "postgresql")
            connection = await asyncpg.connect(dsn)
            try:
                return list(await connection.fetch(statement, *args))
            finally:
                await connection.close()

        return asyncio.run(fetch())

    def slots(self) -> dict[tuple[str, datetime], tuple[str, datetime]]:
        """(rule, slot) -> (who evaluated it, when it committed)."""
        found = self.rows("SELECT rule_id, slot_at, evaluated_by, committed_at FROM evaluations")
        return {(r[0], r[1]): (r[2], r[3]) for r in found}


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    name = f"alertbot_replicas_{uuid.uuid4().hex[:10]}"
    admin = Database(postgres_url)
    admin.rows(f'CREATE DATABASE "{name}"')
    try:
        yield Database(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    finally:
        admin.rows(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> str:
    problem = asyncio.run(_probe(POSTGRES_URL))
    if problem is not None:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL} ({problem})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; CI must run this test", pytrace=False)
        pytest.skip(f"{message}; set CI to make this a failure")
    return POSTGRES_URL


async def seed(url: str, service_url: str) -> None:
    store = await open_store(url)
    now = datetime.now(UTC)
    for conversation_id in CONVERSATIONS:
        await store.upsert_conversation(teams_channel(conversation_id, service_url))
        await store.subscribe(
            Subscription(
                conversation_id=conversation_id,
                channel=ChannelKind.TEAMS,
                target="all",
                max_severity=4,
                created_by="admin",
                created_at=now,
            )
        )
    await store.close()


@dataclass
class Kill:
    """What was in flight when the replica was killed."""

    replica: Replica
    worker: str
    at: datetime
    held: tuple[str, int]
    held_rule: str
    held_slot: datetime
    evaluated_then: set[tuple[str, datetime]] = field(default_factory=set)


def wait_until(condition: Callable[[], bool], what: str, timeout: float, logs: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}\n{logs[-4000:]}")


def run_replicas(tmp_path: Path, database: Database) -> list[str]:
    """Start three replicas, kill the one posting mid-cycle, let the rest finish; the
    problems found."""
    fake = HoldingConnector()
    with on_loopback(fake) as service_url:
        asyncio.run(seed(database.url, service_url))
        rules_file(tmp_path / "rules")
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_")}
        env = inherited | {
            "ALERTBOT_DATABASE_URL": database.url,
            "ALERTBOT_RULES_PATH": str(tmp_path / "rules"),
            "ALERTBOT_SCHEDULER_SPREAD_SECONDS": str(SPREAD.total_seconds()),
            "ALERTBOT_RULES_RELOAD_SECONDS": "0",
            "ALERTBOT_NOTIFIER": "teams",
            "ALERTBOT_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
            "ALERTBOT_REPLICAS": "3",
            "ALERTBOT_LOG_FORMAT": "json",
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
        }
        replicas = [Replica(tmp_path, f"replica-{n}", env) for n in range(3)]
        try:
            return _run(replicas, database, fake)
        finally:
            for replica in replicas:
                replica.stop()


def _logs(replicas: list[Replica]) -> str:
    return "\n".join(r.log_path.read_text()[-1500:] for r in replicas)


def _run(replicas: list[Replica], database: Database, fake: HoldingConnector) -> list[str]:
    started = time.monotonic()
    logs = lambda: _logs(replicas)  # noqa: E731
    wait_until(lambda: all(r.get("/readyz")[0] == 200 for r in replicas), "readiness", 60, logs())
    wait_until(lambda: _cycles(database) >= 1, "a first cycle", 40, logs())
    kill = _kill_mid_fan_out(replicas, database, fake)
    survivors = [r for r in replicas if r is not kill.replica]
    after = kill.at + 2 * PERIOD
    wait_until(lambda: _caught_up(database, after, fake), "the survivors to catch up", 70, logs())
    takeovers = sum(_takeovers(r) for r in survivors)
    for replica in survivors:
        replica.stop()
    print(
        f"\nreplicas: {len(database.slots())} rule slots evaluated, "
        f"{sum(fake.posted().values())} cards posted, killed {kill.worker} posting "
        f"{kill.held}; {takeovers} conversation takeover(s); "
        f"{time.monotonic() - started:.0f} s"
    )
    return _problems(replicas, database, fake, kill, takeovers)


def _cycles(database: Database) -> int:
    per_rule = Counter(rule for rule, _ in database.slots())
    return min((per_rule[rule] for rule in RULES), default=0)


def _kill_mid_fan_out(replicas: list[Replica], database: Database, fake: HoldingConnector) -> Kill:
    """Hold a post of the first rule's slot made while the period's later slots are still
    to come; kill the replica posting it."""
    fake.armed = partial(_mid_cycle_post, database)
    wait_until(fake.holding.is_set, "a post held in flight", 60, _logs(replicas))
    time.sleep(0.3)  # the replica's other posts of this fan-out are answered and recorded
    assert fake.held is not None
    conversation, alert_id = card_key(fake.held)
    [(lease_owner, lease_expires, item_owner, item_expires, status, rule)] = database.rows(
        "SELECT l.owner, l.expires_at, o.lease_owner, o.lease_expires_at, o.status, o.rule_id "
        "FROM conversation_leases l JOIN outbox o ON o.conversation_id = l.conversation_id "
        "WHERE l.conversation_id = $1 AND o.alert_id = $2",
        conversation,
        alert_id,
    )
    now = datetime.now(UTC)
    assert lease_owner == item_owner, "the held post's item is leased with its conversation"
    assert status == OutboxStatus.PENDING.value
    assert min(lease_expires, item_expires) > now, "the leases were live at the kill"
    [replica] = [r for r in replicas if f":{r.pid}:" in lease_owner]
    assert replica.process.poll() is None
    evaluated = set(database.slots())
    replica.process.send_signal(signal.SIGKILL)
    replica.process.wait(10)
    [(dimensions,)] = database.rows("SELECT dimensions FROM alerts WHERE id = $1", alert_id)
    held_slot = alert_slot(dimensions)
    return Kill(replica, lease_owner, now, (conversation, alert_id), rule, held_slot, evaluated)


def alert_slot(dimensions: Any) -> datetime:
    """The slot an alert of the test's rules was opened for: its Slot dimension, which
    KQL wrote with 7 decimals (`2026-03-02T12:00:01.6280000Z`)."""
    slot = (json.loads(dimensions) if isinstance(dimensions, str) else dimensions)["Slot"]
    return datetime.fromisoformat(slot[:23]).replace(tzinfo=UTC)


def _caught_up(database: Database, after: datetime, fake: HoldingConnector) -> bool:
    slots = database.slots()
    latest = {rule: max((s for r, s in slots if r == rule), default=None) for rule in RULES}
    if any(s is None or s < after for s in latest.values()):
        return False
    [(unsent,)] = database.rows("SELECT count(*) FROM outbox WHERE status != 'sent'")
    return bool(unsent == 0)


def _takeovers(replica: Replica) -> float:
    status, text = replica.get("/metrics")
    assert status == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "alertbot_claim_takeovers_total"
        and sample.labels == {"kind": "conversation"}
    )


def _problems(
    replicas: list[Replica],
    database: Database,
    fake: HoldingConnector,
    kill: Kill,
    takeovers: float,
) -> list[str]:
    slots = database.slots()
    problems = _slot_problems(slots, kill)
    problems += _log_problems(replicas, slots)
    problems += _delivery_problems(database, fake, kill, slots)
    if takeovers < 1:
        problems.append("no survivor counted taking over the dead replica's conversation")
    return problems


def _mid_cycle_post(database: Database, body: dict[str, Any]) -> bool:
    """A post of the first rule's current slot, made at least MID_CYCLE_MARGIN before the
    period's last slot, while some of the period's slots are evaluated and some not. On a
    loaded machine a fan-out can come late in its period; then a later period's is held."""
    now = datetime.now(UTC)
    first = slot_at(now, frequency=PERIOD, offset=offset(RULES[0]))
    if f"{first:%Y-%m-%dT%H:%M:%S.%f}"[:-3] not in json.dumps(body):  # the Slot on the card
        return False
    cycle = {(rule, first - offset(RULES[0]) + offset(rule)) for rule in RULES}
    if now > max(slot for _, slot in cycle) - MID_CYCLE_MARGIN:
        return False
    return 0 < len(cycle & set(database.slots())) < len(cycle)


def _slot_problems(
    slots: dict[tuple[str, datetime], tuple[str, datetime]], kill: Kill
) -> list[str]:
    problems = []
    # The kill's cycle: the held alert's slot, and the other rules' slots of that period.
    cycle = {(r, kill.held_slot - offset(kill.held_rule) + offset(r)) for r in RULES}
    done_then = cycle & kill.evaluated_then
    if not 0 < len(done_then) < len(cycle):
        problems.append(f"the kill did not land mid-cycle: {sorted(done_then)} of {sorted(cycle)}")
    for rule in RULES:
        times = sorted(s for r, s in slots if r == rule)
        gaps = [b for a, b in itertools.pairwise(times) if b - a != PERIOD]
        if gaps:
            problems.append(f"rule {rule}: slots missing before {gaps}")
        later = [s for s in times if s > kill.at]
        if not later:
            problems.append(f"rule {rule}: no slot evaluated after the kill")
            continue
        by, committed = slots[(rule, later[0])]
        if by == kill.worker or committed - later[0] >= PERIOD:
            problems.append(f"rule {rule}: slot {later[0]} after the kill: {by} at {committed}")
    return problems


def _log_problems(
    replicas: list[Replica], slots: dict[tuple[str, datetime], tuple[str, datetime]]
) -> list[str]:
    problems = []
    evaluated: Counter[tuple[str, str]] = Counter()
    for replica in replicas:
        for line in replica.lines():
            if not str(line.get("replica", "")).endswith(f":{replica.pid}"):
                problems.append(f"a line without its replica: {line}")
            problems += _context_problems(line)
            match = EVALUATED.match(line["message"])
            if match:
                if line.get("rule_id") != match[1] or line.get("slot") != match[2]:
                    problems.append(f"an evaluation's line without its rule and slot: {line}")
                evaluated[(match[1], match[2])] += 1
    committed = {(rule, slot.isoformat()) for rule, slot in slots}
    twice = sorted(key for key, count in evaluated.items() if count > 1)
    if twice:
        problems.append(f"(rule, slot) evaluated more than once: {twice[:5]}")
    if set(evaluated) != committed:
        unmatched = sorted(set(evaluated) ^ committed)[:5]
        problems.append(f"evaluations logged but not committed, or not logged: {unmatched}")
    return problems


def _context_problems(line: dict[str, Any]) -> list[str]:
    """A line about a delivery names its conversation (and alert); a takeover, what."""
    message = line["message"]
    took_over = TOOK_OVER.match(message)
    if took_over and line.get("conversation_id") != took_over[1]:
        return [f"a takeover's line without its conversation: {line}"]
    delivery = line["logger"] == "bot.notify.dispatcher" and message.startswith("outbox: delivery")
    if delivery and not {"conversation_id", "alert_id", "rule_id"} <= line.keys():
        return [f"a delivery's line without its conversation and alert: {line}"]
    return []


def _delivery_problems(
    database: Database,
    fake: HoldingConnector,
    kill: Kill,
    slots: dict[tuple[str, datetime], tuple[str, datetime]],
) -> list[str]:
    problems = []
    alerts = database.rows("SELECT id, rule_id, dimensions FROM alerts")
    per_slot = Counter((rule_id, alert_slot(dimensions)) for _, rule_id, dimensions in alerts)
    expected = Counter(dict.fromkeys(slots, 1))
    if per_slot != expected:
        wrong = (per_slot - expected) + (expected - per_slot)
        problems.append(f"alerts per (rule, slot) differ from one: {sorted(wrong)[:5]}")
    items = database.rows("SELECT conversation_id, alert_id, status FROM outbox")
    if {status for *_, status in items} != {OutboxStatus.SENT.value}:
        problems.append("not every outbox item was sent")
    told = {(conversation, alert_id) for conversation, alert_id, _ in items}
    if told != {(c, a) for c in CONVERSATIONS for a, *_ in alerts}:
        problems.append("not every alert was handed to every conversation")
    posted = fake.posted()
    # A post accepted just as its replica died, before the outbox recorded it, is made
    # again saying it may repeat (Teams has no idempotency key): only unannounced count.
    twice = sorted(key for key, count in fake.posted(announced=False).items() if count > 1)
    if twice or any(count > 2 for count in posted.values()):
        problems.append(f"cards posted more than once: {twice[:5] or posted.most_common(3)}")
    if set(posted) != told:
        problems.append(f"cards never posted: {sorted(told - set(posted))[:5]}")
    if kill.held not in posted:
        problems.append(f"the post in flight at the kill, {kill.held}, was never made again")
    return problems


def test_three_replicas_evaluate_and_deliver_once_and_survive_a_kill(
    tmp_path: Path, database: Database
) -> None:
    problems = run_replicas(tmp_path, database)
    assert problems == [], "\n".join(problems)
