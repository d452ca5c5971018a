"""The Dockerfile, checked without a Docker engine (none runs here): its settings are valid,
it copies every folder the wheel ships, it runs as a user of its own, and its health
check asks a route the bot serves. The install itself is tests/test_install.py's."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest
from aiohttp import web

from bot.settings import load_settings
from bot.web import add_routes

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def instructions(name: str) -> list[str]:
    joined = DOCKERFILE.replace("\\\n", " ")
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.startswith(name + " ")]


def test_its_settings_are_valid_and_bind_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    settings = dict(re.findall(r"(ALERTBOT_\w+)=(\S+)", " ".join(instructions("ENV"))))
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    loaded = load_settings(None)
    assert loaded.host == "0.0.0.0"
    assert loaded.database_url == "sqlite+aiosqlite:////data/alertbot.db"
    assert instructions("VOLUME") == ['["/data"]']


def test_it_copies_every_folder_the_wheel_ships() -> None:
    build = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]
    shipped = set(build["targets"]["wheel"]["force-include"]) | {"bot"}
    copied = {line.split()[0] for line in instructions("COPY") if not line.startswith("--from")}
    assert shipped <= copied


def test_it_runs_the_installed_wheel_as_a_user_of_its_own() -> None:
    assert instructions("FROM")[-1] == "python:3.11-slim"
    assert instructions("USER") == ["alertbot"]
    assert "pip install --no-cache-dir /tmp/wheel/*.whl" in " ".join(instructions("RUN"))
    assert instructions("CMD")[-1] == '["alertbot", "serve"]'


def test_the_health_check_asks_a_route_the_bot_serves() -> None:
    (check,) = instructions("HEALTHCHECK")
    app = web.Application()
    add_routes(app)
    served = {route.resource.canonical for route in app.router.routes() if route.resource}
    assert "/healthz" in served
    assert "/healthz'" in check
