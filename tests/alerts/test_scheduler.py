"""The scheduler: its timing decisions as tables, then short runs of the real AsyncIOScheduler."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts.rule_model import Rule
from bot.alerts.scheduler import RuleScheduler, first_run_delay, trigger_jitter
from bot.models import RuleHealth
from tests.alerts.builders import T0, make_rule

S, M, H = timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1)


@pytest.mark.parametrize(
    ("frequency", "last_evaluated", "offset", "expected"),
    [
        # T0 is a slot of every frequency below (slot offset 0).
        # Never evaluated: soon, spread over min(frequency, spread=1m).
        (15 * M, None, 0.0, 0 * S),
        (15 * M, None, 0.5, 30 * S),
        (30 * S, None, 0.5, 15 * S),
        # Its current slot evaluated: at the next slot.
        (15 * M, 0 * S, 0.9, 15 * M),
        # The current slot (T0) not evaluated yet: soon, and once (not once per period).
        (15 * M, -5 * M, 0.5, 30 * S),
        (15 * M, -15 * M, 0.5, 30 * S),
        (15 * M, -3 * H, 0.5, 30 * S),
        (1 * H, -30 * H, 0.25, 15 * S),
        # Last evaluated "in the future" (a demo clock restarted at the same moment).
        (15 * M, +10 * M, 0.5, 15 * M),
    ],
)
def test_first_run_delay(
    frequency: timedelta, last_evaluated: timedelta | None, offset: float, expected: timedelta
) -> None:
    last = None if last_evaluated is None else T0 + last_evaluated
    delay = first_run_delay(
        frequency=frequency, last_evaluated_at=last, now=T0, spread=1 * M, offset=offset
    )
    assert delay == expected


@pytest.mark.parametrize(
    ("now", "last_evaluated", "expected"),
    [
        # Slots at :07 past each quarter hour; the last one (11:52) was evaluated.
        (0 * S, -8 * M, 7 * M),
        # 12:07 has passed and was not evaluated: soon.
        (8 * M, -8 * M, 30 * S),
    ],
)
def test_the_first_run_follows_the_rules_slots(
    now: timedelta, last_evaluated: timedelta, expected: timedelta
) -> None:
    delay = first_run_delay(
        frequency=15 * M,
        last_evaluated_at=T0 + last_evaluated,
        now=T0 + now,
        spread=1 * M,
        offset=0.5,
        slot_offset=7 * M,
    )
    assert delay == expected


@pytest.mark.parametrize(
    ("frequency", "seconds"),
    [(1 * S, 0.1), (1 * M, 6.0), (5 * M, 30.0), (15 * M, 60.0), (12 * H, 60.0)],
)
def test_each_run_is_jittered_by_a_tenth_of_the_frequency_at_most_a_minute(
    frequency: timedelta, seconds: float
) -> None:
    assert trigger_jitter(frequency) == pytest.approx(seconds)


FAKE_NOW = datetime(2030, 1, 1, tzinfo=UTC)


class Recorder:
    """An `evaluate` that records each run, how many ran at once, and can be slow or fail."""

    def __init__(self, *, takes: float = 0.0, fails: bool = False) -> None:
        self.runs: list[tuple[str, datetime]] = []
        self.takes, self.fails = takes, fails
        self.active: dict[str, int] = defaultdict(int)
        self.overlapped = False
        self.running = self.most_at_once = 0

    async def __call__(self, rule: Rule, now: datetime) -> None:
        self.runs.append((rule.id, now))
        self.active[rule.id] += 1
        self.overlapped |= self.active[rule.id] > 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.takes)
            if self.fails:
                raise RuntimeError("the workspace exploded")
        finally:
            self.active[rule.id] -= 1
            self.running -= 1

    def count(self, rule_id: str) -> int:
        return sum(1 for ran, _ in self.runs if ran == rule_id)


def every_second(rule_id: str) -> Rule:
    return make_rule(id=rule_id, frequency="1s", window="1s")


def scheduler(recorder: Recorder, *, max_concurrent: int = 5) -> RuleScheduler:
    return RuleScheduler(
        evaluate=recorder,
        clock=lambda: FAKE_NOW,
        max_concurrent=max_concurrent,
        spread=timedelta(0),
    )


async def test_each_rule_runs_on_its_schedule_at_the_injected_clocks_time() -> None:
    recorder = Recorder()
    running = scheduler(recorder)
    running.start([every_second("a"), every_second("b")], {})
    assert running.running
    await asyncio.sleep(2.5)
    await running.stop()

    assert not running.running
    assert recorder.count("a") >= 2
    assert recorder.count("b") >= 2
    assert {now for _, now in recorder.runs} == {FAKE_NOW}


async def test_queries_are_limited_and_a_slow_rule_never_overlaps_itself(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(takes=1.6)
    running = scheduler(recorder, max_concurrent=2)
    running.start([every_second(name) for name in "abcd"], {})
    await asyncio.sleep(3.5)
    await running.stop(grace=5)

    assert recorder.most_at_once == 2
    assert not recorder.overlapped
    assert "still running from last time" in caplog.text


async def test_a_failed_run_is_logged_with_its_rule_id(caplog: pytest.LogCaptureFixture) -> None:
    running = scheduler(Recorder(fails=True))
    with caplog.at_level(logging.ERROR, logger="bot.alerts.scheduler"):
        running.start([every_second("boom")], {})
        await asyncio.sleep(0.5)
        await running.stop()
    (record,) = [r for r in caplog.records if r.name == "bot.alerts.scheduler"][:1]
    assert record.getMessage() == "rule boom: the evaluation failed"
    assert record.exc_info is not None
    assert "the workspace exploded" in str(record.exc_info[1])


async def test_after_a_restart_a_rule_runs_when_its_last_evaluation_says() -> None:
    hourly = make_rule(id="hourly", frequency="1h", window="1h")
    overdue = make_rule(id="overdue", frequency="15m", window="15m")
    health = {
        # Its current slot (FAKE_NOW: the spread is 0, so slots fall on the hour) is done.
        "hourly": RuleHealth(rule_id="hourly", last_evaluated_at=FAKE_NOW),
        "overdue": RuleHealth(rule_id="overdue", last_evaluated_at=FAKE_NOW - 5 * H),
    }
    recorder = Recorder()
    running = scheduler(recorder)
    started = datetime.now(UTC)
    running.start([hourly, overdue], health)
    next_runs = running.next_runs()
    await asyncio.sleep(0.3)
    await running.stop()

    # At its next slot, an hour on (the first run is not jittered); the overdue one at
    # once, and once.
    assert 60 * M <= next_runs["hourly"] - started <= 60 * M + S
    assert recorder.count("overdue") == 1
    assert recorder.count("hourly") == 0


async def test_new_rules_replace_the_jobs() -> None:
    recorder = Recorder()
    running = scheduler(recorder)
    slow = make_rule(id="slow", frequency="1h", window="1h")
    running.start([slow, make_rule(id="gone", frequency="1h", window="1h")], {})
    changed_query = make_rule(id="slow", frequency="1h", window="1h", query="AuditLogs")
    changed_frequency = make_rule(id="fast", frequency="1s", window="1s")
    disabled = make_rule(id="off", enabled=False)

    changes = running.set_rules([changed_query, changed_frequency, disabled], {})
    await asyncio.sleep(1.5)
    await running.stop()

    assert (changes.added, changes.removed, changes.changed) == (("fast",), ("gone",), ("slow",))
    assert set(running.rules) == {"slow", "fast"}
    assert running.rules["slow"].query == "AuditLogs"
    assert recorder.count("fast") >= 1
    assert str(changes) == "added fast; removed gone; changed slow"
