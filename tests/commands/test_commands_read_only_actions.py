"""Buttons that only read (a question's choices) pass the tenant gate only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import messages
from bot.commands.base import Caller, Reply
from tests.support.chat import READER, ChatHarness, Person

CHOOSE = "ask.choose"


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Mapping[str, Any]]] = []

    async def __call__(self, caller: Caller, data: Mapping[str, Any]) -> Reply:
        self.calls.append((caller.user_id, data))
        return Reply(text="answered")


async def test_a_reader_may_press_a_read_only_button(tmp_path: Path) -> None:
    recorder = Recorder()
    chat = await ChatHarness.create(tmp_path, admin=False, read_only_actions={CHOOSE: recorder})
    try:
        reply = await chat.router.handle_card_action(chat.caller, CHOOSE, {"command": "x"})
    finally:
        await chat.close()
    assert reply.text == "answered"
    assert recorder.calls == [(READER.user_id, {"command": "x"})]


async def test_another_tenant_is_refused_before_the_handler(tmp_path: Path) -> None:
    recorder = Recorder()
    stranger = Person("0f0f0f0f-0000-4000-8000-000000000001", "Sam", tenant_id="other-tenant")
    chat = await ChatHarness.create(tmp_path, person=stranger, read_only_actions={CHOOSE: recorder})
    try:
        reply = await chat.router.handle_card_action(chat.caller, CHOOSE, {"command": "x"})
    finally:
        await chat.close()
    assert reply.text == messages.other_tenant()
    assert recorder.calls == []
