"""What the replicas' deliveries share in the database, on SQLite and PostgreSQL: the
shown-message digests (seen by another store on the same database, and after a restart),
a conversation's recent operations, the replicas delivering lately, posts in flight."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.channels.shown import ShownMessages
from bot.models import AlertEvent, AlertEventKind, ChannelKind
from bot.store import new_outbox_item
from tests.store.conftest import Database

NOW = datetime(2026, 5, 4, 10, 50, tzinfo=UTC)
CARD = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "fired"}]}


async def test_what_a_message_shows_is_known_to_another_process_and_after_a_restart(
    database: Database,
) -> None:
    first, other = await database.open(), await database.open()
    try:
        await ShownMessages(first).remember("19:ops", "1001", CARD)
        assert await ShownMessages(other).shows("19:ops", "1001", CARD)
        assert not await ShownMessages(other).shows("19:ops", "1001", {**CARD, "x": 1})
        assert not await ShownMessages(other).shows("19:ops", "1002", CARD)
    finally:
        await first.close()
        await other.close()
    restarted = await database.open()
    try:
        assert await ShownMessages(restarted).shows("19:ops", "1001", CARD)
    finally:
        await restarted.close()


async def test_recent_sends_replicas_and_posts_in_flight(database: Database) -> None:
    store = await database.open()
    try:
        event = AlertEvent(kind=AlertEventKind.DIGEST, at=NOW, rule_id="r", detail="d")
        [item] = await store.enqueue(
            [new_outbox_item(event, conversation_id="c", channel=ChannelKind.TEAMS, not_before=NOW)]
        )
        sends = [NOW + timedelta(seconds=s) for s in (0.0, 0.25, 0.5)]
        await store.save_recent_sends("c", sends)
        assert await store.recent_sends("c") == sends
        await store.claim_conversations(
            worker="a", now=NOW, lease=timedelta(minutes=1), conversations=1, per_conversation=1
        )
        await store.release_conversation("c", worker="a", now=NOW, unsent=[item.id])
        assert await store.delivering_replicas(since=NOW - timedelta(seconds=60)) == 1
        assert await store.delivering_replicas(since=NOW + timedelta(seconds=1)) == 0

        assert await store.mark_post_started(item.id, attempt="x1", at=NOW)
        [maybe] = await store.list_outbox()
        assert (maybe.post_attempt, maybe.post_started_at) == ("x1", NOW)
        assert not await store.clear_post_started(item.id, attempt="other")
        assert await store.clear_post_started(item.id, attempt="x1")
        [cleared] = await store.list_outbox()
        assert cleared.post_attempt is None
    finally:
        await store.close()


async def test_reads_of_many_and_one_write_per_delivery(database: Database) -> None:
    """The bulk reads a fan-out's deliveries share (bot.channels.coalesced), the one write
    of a delivery's state, and a release that marks the turn's last item sent."""
    store = await database.open()
    try:
        event = AlertEvent(kind=AlertEventKind.DIGEST, at=NOW, rule_id="r", detail="d")
        items = await store.enqueue(
            [
                new_outbox_item(event, conversation_id=c, channel=ChannelKind.TEAMS, not_before=NOW)
                for c in ("c1", "c2")
            ]
        )
        sends = [NOW, NOW + timedelta(seconds=0.5)]
        await store.save_delivery_state(
            "c1", shown=[("m1", "d1"), ("m2", "d2")], at=NOW, sends=sends
        )
        await store.save_delivery_state("c2", shown=[("m3", "d3")], at=NOW)
        assert await store.recent_sends_of(["c1", "c2", "nowhere"]) == {"c1": sends}
        digests = [
            await store.shown_digest(c, m) for c, m in (("c1", "m1"), ("c1", "m2"), ("c2", "m3"))
        ]
        assert digests == ["d1", "d2", "d3"]
        assert await store.recent_sends("c2") == []

        await store.claim_conversations(
            worker="a", now=NOW, lease=timedelta(minutes=1), conversations=2, per_conversation=1
        )
        assert not await store.release_conversation(
            "c1", worker="b", now=NOW, sent=(items[0].id, "m1")
        )  # not b's lease: still, the item was delivered, so it is marked sent
        assert await store.release_conversation("c2", worker="a", now=NOW, sent=(items[1].id, None))
        by_id = {item.id: item for item in await store.list_outbox()}
        assert (by_id[items[0].id].status, by_id[items[0].id].message_id) == ("sent", "m1")
        assert by_id[items[1].id].status == "sent"
    finally:
        await store.close()


async def test_a_fan_out_is_enqueued_in_one_statement_each_key_once(database: Database) -> None:
    """Many items at once (one event, many conversations): each stored once with its own
    id; a key already stored, or repeated in the same call, is not added again."""
    store = await database.open()
    try:
        event = AlertEvent(kind=AlertEventKind.DIGEST, at=NOW, rule_id="r", detail="d")

        def item(conversation: str) -> Any:
            return new_outbox_item(
                event, conversation_id=conversation, channel=ChannelKind.TEAMS, not_before=NOW
            )

        [first] = await store.enqueue([item("c0")])
        added = await store.enqueue([item(f"c{n}") for n in range(300)] + [item("c5")])
        assert [a.conversation_id for a in added] == [f"c{n}" for n in range(1, 300)]
        stored = {i.conversation_id: i for i in await store.list_outbox()}
        assert len(stored) == 300
        assert stored["c0"].id == first.id
        assert all(stored[a.conversation_id].id == a.id for a in added)
        assert all(stored[a.conversation_id].event == event for a in added)
        # Every conversation can be claimed: each got its lease row.
        claimed = await store.claim_conversations(
            worker="a", now=NOW, lease=timedelta(minutes=1), conversations=300, per_conversation=1
        )
        assert len(claimed) == 300
    finally:
        await store.close()
