"""Chat fixtures: an admin in the ops channel, and a reader beside them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.chat import READER, ChatHarness


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[ChatHarness]:
    """An alert admin in the ops channel (the bot is installed there)."""
    async with await ChatHarness.create(tmp_path, admin=True) as harness:
        yield harness


@pytest.fixture
def reader(chat: ChatHarness) -> ChatHarness:
    """Someone of the same tenant who is not an alert admin, in the same channel."""
    return chat.as_person(READER)
