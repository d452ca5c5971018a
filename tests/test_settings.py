"""Settings: defaults, the example file, and one clear line per problem."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import Settings, load_settings

EXAMPLE = Path(__file__).parent.parent / "config" / "example.env"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)


def test_example_env_documents_every_setting_with_its_default() -> None:
    documented = dict(
        line.split("=", 1)
        for line in EXAMPLE.read_text().splitlines()
        if re.match(r"^ALERTBOT_\w+=", line)
    )
    assert set(documented) == {f"ALERTBOT_{name.upper()}" for name in Settings.model_fields}
    assert load_settings(EXAMPLE, environ={}) == load_settings(None, environ={})


def test_every_problem_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTBOT_PORT", "http")
    monkeypatch.setenv("ALERTBOT_DEMO_SIZE", "huge")
    monkeypatch.setenv("ALERTBOT_WORKSPCE", "azure")
    with pytest.raises(ConfigError) as raised:
        load_settings(None)
    problems = raised.value.problems
    assert len(problems) == 3
    assert problems[0] == "ALERTBOT_WORKSPCE: unknown setting (see config/example.env)"
    assert any(p.startswith("ALERTBOT_PORT: ") and "'http'" in p for p in problems)
    assert any(p.startswith("ALERTBOT_DEMO_SIZE: ") for p in problems)


def test_azure_needs_a_workspace_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERTBOT_WORKSPACE", "azure")
    with pytest.raises(ConfigError, match="ALERTBOT_AZURE_WORKSPACE_ID is required"):
        load_settings(None)


def test_env_file_is_read(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("ALERTBOT_PORT=4000\nALERTBOT_DEMO_NOW=2026-05-01T10:00\n")
    settings = load_settings(env, environ={})
    assert settings.port == 4000
    assert settings.demo_now == datetime(2026, 5, 1, 10, tzinfo=UTC)


def test_demo_anchor_defaults_to_the_start_of_the_hour() -> None:
    settings = load_settings(None, environ={})
    now = datetime(2026, 5, 1, 10, 42, 7, tzinfo=UTC)
    assert settings.demo_anchor(now=now) == datetime(2026, 5, 1, 10, tzinfo=UTC)
