"""Fixtures for workspace tests: a local Log Analytics API server on a real TCP port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from bot.workspace.base import Workspace
from tests.support.loganalytics_server import (
    RunningServer,
    create_loganalytics_app,
    serve_loganalytics,
)

WORKSPACE_ID = "5ef3be57-f45f-451a-88c4-68a7fda680bb"
TOKEN = "test-token-not-a-secret"

StartServer = Callable[[Workspace], Awaitable[RunningServer]]


@pytest.fixture
async def start_loganalytics_server() -> AsyncIterator[StartServer]:
    """Call with a backend Workspace; the server (workspace WORKSPACE_ID, bearer TOKEN
    required) listens on 127.0.0.1 until the test ends. Its `base_url`/`endpoint` say where."""
    async with AsyncExitStack() as stack:

        async def start(backend: Workspace) -> RunningServer:
            app = create_loganalytics_app(backend, workspace_id=WORKSPACE_ID, expected_token=TOKEN)
            return await stack.enter_async_context(serve_loganalytics(app))

        yield start
