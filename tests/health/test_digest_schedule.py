"""Reading `digest daily|weekly ...` and when each digest is due, in the conversation's zone."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.health.schedule import DigestSchedule, ScheduleError, parse_digest
from bot.health.scheduler import cron_trigger
from bot.models import ChannelKind, DigestSubscription


def test_daily_weekly_off_and_now_are_read() -> None:
    daily = parse_digest("daily 08:00 Europe/Berlin")
    assert daily.schedule == DigestSchedule("daily", time(8), "Europe/Berlin")
    weekly = parse_digest("weekly Monday 7:30")
    assert weekly.schedule == DigestSchedule("weekly", time(7, 30), "UTC", 0)
    assert parse_digest("off").action == "off"
    assert parse_digest("NOW").action == "now"
    assert parse_digest(None).action == "show"
    assert parse_digest("daily 08:00 europe/berlin").schedule == daily.schedule


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("daily 25:00", "not a time of day"),
        ("daily 08:00 Mars/Olympus", "not a time zone"),
        ("daily 08:00 ../../etc/passwd", "not a time zone"),
        ("weekly 08:00", "which day"),
        ("hourly", "not a digest schedule"),
        ("daily", "Give a time"),
    ],
)
def test_bad_schedules_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ScheduleError, match=says):
        parse_digest(text)


def test_eight_o_clock_stays_local_across_daylight_saving() -> None:
    berlin = DigestSchedule("daily", time(8), "Europe/Berlin")
    # 29 March 2026: Berlin moves from UTC+1 to UTC+2.
    before = berlin.latest_due(datetime(2026, 3, 28, 12, tzinfo=UTC))
    after = berlin.latest_due(datetime(2026, 3, 29, 12, tzinfo=UTC))
    assert before.astimezone(UTC) == datetime(2026, 3, 28, 7, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 6, tzinfo=UTC)
    # before 08:00 local, the latest digest is yesterday's
    assert berlin.period_key(datetime(2026, 3, 29, 5, 59, tzinfo=UTC)) == "2026-03-28"
    assert berlin.period_key(datetime(2026, 3, 29, 6, 0, tzinfo=UTC)) == "2026-03-29"


def test_weekly_is_due_on_its_day_only() -> None:
    monday = DigestSchedule("weekly", time(8), "UTC", 0)
    # Wednesday 18 November 2026 -> Monday 16th
    assert monday.period_key(datetime(2026, 11, 18, 12, tzinfo=UTC)) == "2026-11-16"
    assert monday.period_key(datetime(2026, 11, 16, 7, tzinfo=UTC)) == "2026-11-09"


def test_the_cron_trigger_fires_at_the_local_time() -> None:
    sub = DigestSubscription(
        conversation_id="c", channel=ChannelKind.TEAMS, every="weekly", at="08:00",
        timezone="America/New_York", weekday=0, created_by="a",
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    fire = cron_trigger(sub).get_next_fire_time(None, datetime(2026, 11, 18, tzinfo=UTC))
    assert fire is not None
    assert fire.astimezone(UTC) == datetime(2026, 11, 23, 13, tzinfo=UTC)  # Mon 08:00 EST
