"""Pytest fixtures that start the local stand-ins for cloud services (Slack, Microsoft
Graph, Azure Alerts Management) on 127.0.0.1 and free ports.

Use them from a conftest.py:  `from tests.support.fakes import fake_slack  # noqa: F401`
(pytest finds fixtures imported into a conftest).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.alerts_management_api import FakeAlertsManagement, serve_alerts_management
from tests.support.graph_api import FakeGraph, sample_directory, serve_graph
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


@pytest.fixture
async def fake_graph() -> AsyncIterator[FakeGraph]:
    """A local Microsoft Graph holding `sample_directory()`; `fake_graph.endpoint` is the
    …/v1.0 base, `fake_graph.tokens` issues tokens (also via its managed-identity endpoint)."""
    async with serve_graph(sample_directory()) as graph:
        yield graph


@pytest.fixture
async def fake_alerts_management() -> AsyncIterator[FakeAlertsManagement]:
    """A local ARM for Alerts Management with no alerts; add them to `.state`."""
    async with serve_alerts_management() as arm:
        yield arm
