"""Fixtures of the end-to-end tests: a Teams world per test (see teams.py), its logs in
test-artifacts/e2e/<test>/ when the test fails, and the Playwright browser (browser.py)."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.teams import ROOT, TeamsWorld

ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's folder in test-artifacts/e2e/ (emptied first; made when written to)."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    return folder


async def _world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    artifacts: Path,
    playgrounds: tuple[str, ...],
    **options: Any,
) -> AsyncIterator[TeamsWorld]:
    async with TeamsWorld.open(tmp_path, playgrounds=playgrounds, **options) as world:
        try:
            yield world
        finally:
            if request.node.stash.get(FAILED, True):
                saved = _save(artifacts / "report.txt", world.report())
                print(f"\n{world.summary()}\nlogs and events: {saved}")


def _save(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
async def teams(
    request: pytest.FixtureRequest, tmp_path: Path, artifacts: Path
) -> AsyncIterator[TeamsWorld]:
    """The bot beside one Playground, whose user (Alex Wilber) is an alert admin."""
    async for world in _world(request, tmp_path, artifacts, ("admin",)):
        yield world


@pytest.fixture
async def teams_with_member(
    request: pytest.FixtureRequest, tmp_path: Path, artifacts: Path
) -> AsyncIterator[TeamsWorld]:
    """The bot beside two Playgrounds of the same tenant and team: at one sits the admin,
    at the other Megan Bowen, who is not an admin."""
    async for world in _world(request, tmp_path, artifacts, ("admin", "member")):
        yield world


@pytest.fixture
async def teams_with_notices(
    request: pytest.FixtureRequest, tmp_path: Path, artifacts: Path
) -> AsyncIterator[TeamsWorld]:
    """The bot beside the admin's Playground with the account-security notice rule only
    (notices on, piloted with the Playground's user, as in `make run`)."""
    async for world in _world(
        request, tmp_path, artifacts, ("admin",), rule_files=("account-security.yaml",)
    ):
        yield world
