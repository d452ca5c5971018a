"""The edge's parts on their own: the depth check, the unauthenticated gate, the refusal to
serve unauthenticated off loopback (issue 19, item 8), and conversation references
written only when new or changed (issue 18)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.edge.admission import BusyError, UnauthenticatedGate
from bot.edge.body import too_deep
from bot.models import ChannelKind, ConversationRef
from bot.settings import Settings, bot_identity_problems, is_loopback
from bot.store.sql import open_store
from bot.store.sql.known import KnownConversations
from tests.support.alerting import sqlite_url


@pytest.mark.parametrize(
    ("body", "deep"),
    [
        (b'{"a": [1, {"b": "[[[[[[[[[["}]}', False),
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b'{"a":' * 65 + b"1" + b"}" * 65, True),
        (b"[" * 200_000, True),
        (b'["' + b"[" * 100, False),  # an unterminated string runs to the end: not JSON
        (b'["\\\\", ' + b"[" * 100 + b"]" * 101, True),  # an escaped backslash ends no string
        (b'["\\"]"' + b"]" * 100 + b'"]', False),  # brackets inside a string do not count
        (b"[]" * 100_000, False),
        (b"{not json", False),
    ],
)
def test_depth(body: bytes, deep: bool) -> None:
    assert too_deep(body, 64) is deep
    if not deep:  # JSON, or not JSON that the decoder refuses without recursing deeply
        with contextlib.suppress(ValueError):
            json.loads(body)


def test_the_gate_admits_its_capacity_and_frees_slots() -> None:
    gate = UnauthenticatedGate(2)
    with gate.admitted(), gate.admitted() as second:
        with pytest.raises(BusyError), gate.admitted():
            pass
        second.release()
        with gate.admitted():
            assert gate.in_flight == 2
    assert (gate.in_flight, gate.refused) == (0, 1)


@pytest.mark.parametrize(
    ("host", "app_id", "insecure", "refused"),
    [
        ("127.0.0.1", None, False, False),
        ("::1", None, False, False),
        ("localhost", None, False, False),
        ("0.0.0.0", None, False, True),
        ("10.1.2.3", None, False, True),
        ("bot.example.com", None, False, True),
        ("0.0.0.0", None, True, False),
        ("0.0.0.0", "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b", False, False),
    ],
)
def test_no_app_id_off_loopback_refuses_to_start(
    host: str, app_id: str | None, insecure: bool, refused: bool
) -> None:
    settings = Settings(
        _env_file=None,
        host=host,
        microsoft_app_id=app_id,
        microsoft_app_type="UserAssignedMSI",
        microsoft_app_tenant_id="6417b88f-b93c-4137-8a73-e7e3daadd60a",
        insecure_unauthenticated_on_network=insecure,
    )
    problems = bot_identity_problems(settings)
    assert bool(problems) is refused
    if refused:
        assert "ALERTBOT_INSECURE_UNAUTHENTICATED_ON_NETWORK" in problems[0]
    assert is_loopback(host) is (host in ("127.0.0.1", "::1", "localhost"))


def test_serve_on_all_interfaces_without_an_app_id_exits(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_")}
    env |= {"ALERTBOT_HOST": "0.0.0.0", "ALERTBOT_PORT": "9"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(Path(__file__).parents[2])},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "INSECURE_UNAUTHENTICATED_ON_NETWORK" in done.stderr
    assert "serving" not in done.stdout


def ref(
    conversation_id: str, *, user: str = "29:a", url: str = "https://smba/", at: int = 0
) -> ConversationRef:
    return ConversationRef(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        kind="channel",
        reference={
            "serviceUrl": url,
            "user": {"id": user},
            "conversation": {"id": conversation_id},
        },
        updated_at=datetime(2026, 5, 4, tzinfo=UTC) + timedelta(minutes=at),
    )


def test_known_conversations_ignore_the_speaker_and_expire() -> None:
    now = [0.0]
    known = KnownConversations(ttl=60, clock=lambda: now[0])
    known.remember(ref("19:c"))
    assert known.holds(ref("19:c", user="29:b", at=5))
    assert not known.holds(ref("19:c", url="https://smba/other/"))
    now[0] = 61
    assert not known.holds(ref("19:c"))


async def test_an_unchanged_reference_is_not_written_again(tmp_path: Path) -> None:
    store = await open_store(sqlite_url(tmp_path / "bot.db"))
    begins: list[str] = []
    event.listen(
        store.engine.sync_engine,
        "before_cursor_execute",
        lambda conn, cursor, statement, *rest: (
            begins.append(statement) if statement.startswith("BEGIN") else None
        ),
    )
    try:
        await store.upsert_conversation(ref("19:c"))
        first = list(begins)
        for minute in range(1, 20):
            await store.upsert_conversation(ref("19:c", user=f"29:{minute}", at=minute))
        assert begins == first  # not even a read: known to this process
        assert first == ["BEGIN", "BEGIN IMMEDIATE"]  # a read, then the one write
        await store.upsert_conversation(ref("19:c", url="https://smba/moved/"))
        assert begins[len(first) :] == ["BEGIN", "BEGIN IMMEDIATE"]
        assert (await store.get_conversation("19:c")).reference[
            "serviceUrl"
        ] == "https://smba/moved/"  # type: ignore[union-attr]
        assert await store.delete_conversation("19:c")
        await store.upsert_conversation(ref("19:c"))
        assert await store.get_conversation("19:c") is not None  # forgotten on delete
    finally:
        await store.close()
