"""What only the end-to-end tests do in the Agents Playground: press card buttons.

The demo's part (starting the Playground, installing, posting, following events) is the
`bot.playground` edge; this adds the driver the tests need on top of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from bot.playground.events import Event
from bot.playground.playground import PlaygroundClient


def find_action(card: Mapping[str, Any], title: str) -> dict[str, Any] | None:
    """The Action.Execute titled `title` anywhere in the card (inside show-cards too)."""
    for action in _actions(card):
        if action.get("type") == "Action.Execute" and action.get("title") == title:
            return dict(action)
    return None


def action_titles(card: Mapping[str, Any]) -> list[str]:
    return [str(action.get("title")) for action in _actions(card)]


def _actions(node: object) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        if str(node.get("type", "")).startswith("Action."):
            yield node
        for value in node.values():
            yield from _actions(value)
    elif isinstance(node, list):
        for item in node:
            yield from _actions(item)


class PlaygroundDriver(PlaygroundClient):
    """The Playground client, plus pressing buttons on the cards that arrived."""

    async def press(
        self, event: Event, title: str, inputs: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Press the card button titled `title` on the message of `event` (with the card's
        `inputs`, which the host merges into the action's data); the bot's invoke answer."""
        card = event.card
        action = find_action(card, title) if card else None
        if action is None:
            raise LookupError(f"no button {title!r} on {event.describe()}")
        action["data"] = {**(action.get("data") or {}), **(inputs or {})}
        # A channel post is pressed in its own thread, as the Playground's page does.
        conversation_id = event.new_post_conversation_id or event.conversation_id
        return await self.invoke(
            action, conversation_id=conversation_id, reply_to_id=event.message_id
        )

    async def invoke(
        self, action: Mapping[str, Any], *, conversation_id: str, reply_to_id: str
    ) -> dict[str, Any]:
        body = {
            "name": "adaptiveCard/action",
            "value": {"action": dict(action)},
            "from": {"id": self.ids.me.id},
            "conversation": {"id": conversation_id},
            "replyToId": reply_to_id,
        }
        async with self.session.post(f"{self.url}/_conversation/v1/invoke", json=body) as answer:
            answer.raise_for_status()
            result: dict[str, Any] = await answer.json()
            return result
