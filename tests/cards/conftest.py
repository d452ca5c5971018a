"""Card test helpers: one renderer, and ways to look into a rendered card."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.channels.teams.cards import CardRenderer


@pytest.fixture(scope="session")
def renderer() -> CardRenderer:
    return CardRenderer()


def nodes(card: Any) -> Iterator[dict[str, Any]]:
    """Every object in the card, depth first."""
    if isinstance(card, dict):
        yield card
        for value in card.values():
            yield from nodes(value)
    elif isinstance(card, list):
        for item in card:
            yield from nodes(item)


def texts(card: Any) -> str:
    """All visible text, one piece per line (TextBlocks, TextRuns, titles)."""
    pieces = [
        str(node.get("text", node.get("title", "")))
        for node in nodes(card)
        if node.get("type") in ("TextBlock", "TextRun") or "title" in node
    ]
    return "\n".join(pieces)


def actions(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The card's buttons by title."""
    return {action["title"]: action for action in card.get("actions", [])}
