"""The bot's clock: pinned demos move on from ALERTBOT_DEMO_NOW; `make run` (demo clock
"wall") shows the real time of each action while its logs end at DEMO_NOW."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from bot.workspace.factory import bot_clock

ANCHOR = datetime(2026, 3, 2, 12, tzinfo=UTC)
STARTED = datetime(2026, 12, 4, 15, 7, 31, tzinfo=UTC)


class Wall:
    def __init__(self) -> None:
        self.now = STARTED

    def __call__(self) -> datetime:
        return self.now


def test_a_pinned_demo_clock_starts_at_demo_now_and_moves_on() -> None:
    wall = Wall()
    clock = bot_clock(Settings(_env_file=None, demo_now=ANCHOR), wall)
    wall.now += timedelta(minutes=3, seconds=4)
    assert clock() == ANCHOR + timedelta(minutes=3, seconds=4)


def test_the_wall_demo_clock_is_the_real_time_of_the_action() -> None:
    wall = Wall()
    settings = Settings(_env_file=None, demo_now=STARTED, demo_clock="wall")
    clock = bot_clock(settings, wall)
    wall.now += timedelta(minutes=3, seconds=4)
    assert clock() == datetime(2026, 12, 4, 15, 10, 35, tzinfo=UTC)
    assert settings.demo_anchor(now=clock()) == STARTED  # the logs still end there


def test_without_demo_now_the_clock_is_the_wall_clock() -> None:
    wall = Wall()
    assert bot_clock(Settings(_env_file=None), wall)() == STARTED
