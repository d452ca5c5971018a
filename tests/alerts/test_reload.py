"""Rule reloads: a valid change replaces the set, an invalid one is logged and the old set stays."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import pytest

from bot.alerts.reload import RuleReloader, snapshot
from bot.alerts.rule_model import Rule
from bot.alerts.rules import load_rules

RULE = """\
rules:
  - id: {id}
    title: Failures
    description: Failed provisioning events.
    category: Provisioning
    severity: 2
    query: AADProvisioningLogs | where ResultType == "Failure"
    frequency: 15m
    window: 1h
    operator: ">"
    threshold: {threshold}
    remediation:
      text: Fix it.
"""


class Applied:
    def __init__(self) -> None:
        self.sets: list[list[str]] = []
        self.changed = asyncio.Event()

    async def __call__(self, rules: list[Rule]) -> None:
        self.sets.append([f"{rule.id}>{rule.threshold:g}" for rule in rules])
        self.changed.set()

    async def next(self) -> list[str]:
        await asyncio.wait_for(self.changed.wait(), 3.0)
        self.changed.clear()
        return self.sets[-1]


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    (directory / "provisioning.yaml").write_text(RULE.format(id="failures", threshold=5))
    return directory


@pytest.fixture
async def applied(rules_dir: Path) -> AsyncIterator[Applied]:
    recorder = Applied()
    reloader = RuleReloader(
        paths=[rules_dir],
        load=partial(load_rules, [rules_dir]),
        apply=recorder,
        poll_interval=0.05,
    )
    await reloader.start()
    yield recorder
    await reloader.stop()


async def test_a_valid_change_is_applied(rules_dir: Path, applied: Applied) -> None:
    (rules_dir / "provisioning.yaml").write_text(RULE.format(id="failures", threshold=50))
    assert await applied.next() == ["failures>50"]

    (rules_dir / "more.yaml").write_text(RULE.format(id="more-failures", threshold=7))
    assert await applied.next() == ["more-failures>7", "failures>50"]

    (rules_dir / "provisioning.yaml").unlink()
    assert await applied.next() == ["more-failures>7"]


async def test_an_invalid_change_is_logged_and_the_old_set_stays(
    rules_dir: Path, applied: Applied, caplog: pytest.LogCaptureFixture
) -> None:
    broken = RULE.format(id="failures", threshold=50).replace("severity: 2", "severity: 9")
    with caplog.at_level(logging.ERROR, logger="bot.alerts.reload"):
        (rules_dir / "provisioning.yaml").write_text(broken)
        await asyncio.sleep(0.5)
    assert applied.sets == []
    (record,) = caplog.records
    assert "the running rules stay" in record.getMessage()
    assert re.search(r"provisioning\.yaml:6:15: failures: severity: ", record.getMessage())

    (rules_dir / "provisioning.yaml").write_text(RULE.format(id="failures", threshold=60))
    assert await applied.next() == ["failures>60"]


async def test_sighup_reloads(rules_dir: Path) -> None:
    recorder = Applied()
    reloader = RuleReloader(
        paths=[rules_dir], load=partial(load_rules, [rules_dir]), apply=recorder, poll_interval=0
    )
    await reloader.start()
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        assert await recorder.next() == ["failures>5"]
    finally:
        await reloader.stop()


def test_the_snapshot_changes_with_any_edit_addition_or_removal(rules_dir: Path) -> None:
    before = snapshot([rules_dir])
    assert before == snapshot([rules_dir])
    (rules_dir / "other.yml").write_text("rules: []\n")
    added = snapshot([rules_dir])
    (rules_dir / "notes.txt").write_text("not a rule file")
    assert snapshot([rules_dir]) == added
    (rules_dir / "other.yml").unlink()
    assert snapshot([rules_dir]) == before
    assert snapshot([rules_dir / "missing"]) == frozenset({(str(rules_dir / "missing"), -1, -1)})


async def test_a_yaml_bomb_dropped_in_the_folder_is_refused_and_the_watch_goes_on(
    rules_dir: Path, applied: Applied, caplog: pytest.LogCaptureFixture
) -> None:
    # Five levels of nine aliases: 59,049 values, past the loader's bound (a real bomb has
    # nine levels; the bound is the same, see tests/alerts/test_alerts_hostile_yaml.py).
    levels = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    levels += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 5)]
    with caplog.at_level(logging.ERROR, logger="bot.alerts.reload"):
        (rules_dir / "bomb.yaml").write_text("\n".join([*levels, "rules: *a4"]) + "\n")
        await asyncio.sleep(0.5)
    assert applied.sets == []
    (record,) = caplog.records
    assert "bomb.yaml:5:5: -: YAML: the aliases expand to more than" in record.getMessage()

    (rules_dir / "bomb.yaml").unlink()
    (rules_dir / "provisioning.yaml").write_text(RULE.format(id="failures", threshold=60))
    assert await applied.next() == ["failures>60"]
