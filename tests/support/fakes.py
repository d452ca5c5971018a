"""Pytest fixtures that start the local stand-ins for cloud services (Slack, Microsoft
Graph, Azure Alerts Management) on 127.0.0.1 and free ports.

Use them from a conftest.py:  `from tests.support.fakes import fake_slack  # noqa: F401`
(pytest finds fixtures imported into a conftest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack import FakeSlack, sample_workspace, serve_slack


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack holding `sample_workspace()`; `fake_slack.api_url` for the client,
    `fake_slack.state` to arrange and assert, `fake_slack.controls` for faults."""
    async with serve_slack(sample_workspace()) as slack:
        yield slack


@pytest.fixture
async def slack_client(fake_slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    """The real slack_sdk client with the bot token, aimed at `fake_slack`."""
    client = AsyncWebClient(token=fake_slack.state.bot_token, base_url=fake_slack.api_url)
    yield client
    if client.session is not None:
        await client.session.close()
