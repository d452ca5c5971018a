"""Every card kind, rendered with sample and huge data, passes the real Adaptive Cards parser.

tools/validate-cards.mjs parses each card with npm `adaptivecards` (the renderer Teams
hosts use) and reports unknown elements and properties, properties newer than 1.5,
invalid values, duplicate ids, Teams charts without a fallback, and more.
`make test` installs the package (npm ci) first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.channels.teams.cards import CardRenderer
from tests.cards.samples import huge_views, sample_views

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tools" / "validate-cards.mjs"


def validate(paths: list[Path]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "adaptivecards").is_dir():
        pytest.fail("node and npm packages are needed: run `make test` (or `npm ci`)")
    done = subprocess.run(
        [node, str(SCRIPT), *map(str, paths)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def write(directory: Path, name: str, card: dict[str, Any]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(card, ensure_ascii=False, separators=(",", ":")))
    return path


def test_every_card_passes_the_renderer(renderer: CardRenderer, tmp_path: Path) -> None:
    views = {**sample_views(), **huge_views()}
    paths = [write(tmp_path, name, renderer.render(view)) for name, view in views.items()]
    report = validate(paths)
    assert report["renderer"].startswith("adaptivecards 3.0.")
    problems = {Path(c["file"]).stem: c["errors"] for c in report["cards"] if c["errors"]}
    assert problems == {}
    assert len(report["cards"]) == len(views)


def test_the_validator_catches_what_the_renderer_would_drop(tmp_path: Path) -> None:
    bad = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [
            {"type": "TextBlock", "text": "x", "colour": "Good", "color": "Red"},
            {"type": "Chart.Line", "data": [{"legend": "a", "values": [{"x": 1, "y": 2}]}]},
            {"type": "Image", "url": "https://example.com/a.png", "forceLoad": True},
            {"type": "Blink", "text": "?"},
        ],
        "actions": [
            {"type": "Action.Execute", "title": "Go", "data": {"anything": {"goes": 1}}},
            {"type": "Action.ToggleVisibility", "title": "T", "targetElements": ["nowhere"]},
        ],
    }
    errors = validate([write(tmp_path, "bad", bad)])["cards"][0]["errors"]
    expected = [
        'TextBlock: unknown property "colour"',
        'Invalid value "Red"',
        "Chart.Line renders only in Teams and needs a fallback",
        'Property "forceLoad" is supported in version 1.6',
        'Unknown element type "Blink"',
        "Action.Execute without a verb",
        'targets unknown id "nowhere"',
    ]
    for fragment in expected:
        assert any(fragment in error for error in errors), (fragment, errors)
    assert not any("anything" in error for error in errors)
