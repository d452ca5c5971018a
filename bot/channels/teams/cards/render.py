"""Render a view as an Adaptive Card with its template from templates/, under Teams' size limit.

The renderer is built once (it reads the templates) and is otherwise pure: the same
view always gives the same card. So the last few cards are kept, by the view's JSON: the
same help, rules or alert list costs nothing the second time. A card is never changed
once rendered (whoever sends it shares it).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path
from typing import Any, Final

from bot.channels.teams.cards.binder import bind
from bot.channels.teams.cards.data import template_data, template_name
from bot.resources import cards_dir
from bot.views.model import CardView

#: The Adaptive Card templates: the top-level cards/ folder, shipped as package data
#: (see bot.resources).
TEMPLATES_DIR: Final = cards_dir()
#: Teams refuses messages over about 100 KB; one card stays far below, leaving room
#: for the activity around it and several cards in one message.
MAX_CARD_BYTES: Final = 28 * 1024
#: Shrinking halves the biggest part each time; this bounds the loop on any input.
_MAX_SHRINKS: Final = 64
#: Cards kept for views seen again (each well under MAX_CARD_BYTES).
CACHED_CARDS: Final = 32

Card = dict[str, Any]


class CardTooLargeError(ValueError):
    """Even the smallest form of the view renders over the limit."""


def card_bytes(card: Card) -> int:
    """The card's size as sent: compact UTF-8 JSON."""
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode())


class CardRenderer:
    """Renders card views with the templates in `templates_dir`."""

    def __init__(
        self, templates_dir: Path = TEMPLATES_DIR, *, max_bytes: int = MAX_CARD_BYTES
    ) -> None:
        self._templates = {
            path.name: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(templates_dir.glob("*.json"))
        }
        self.max_bytes = max_bytes
        self._cards: OrderedDict[tuple[type[CardView], str], Card] = OrderedDict()

    @property
    def template_names(self) -> list[str]:
        return sorted(self._templates)

    def render(self, view: CardView) -> Card:
        """The Adaptive Card for `view`, shrunk until it is at most `max_bytes`."""
        key = (type(view), view.model_dump_json())
        card = self._cards.get(key)
        if card is None:
            card = self._render(view)
            self._cards[key] = card
            if len(self._cards) > CACHED_CARDS:
                self._cards.popitem(last=False)
        else:
            self._cards.move_to_end(key)
        return card

    def _render(self, view: CardView) -> Card:
        current: CardView | None = view
        for _ in range(_MAX_SHRINKS):
            if current is None:
                break
            card = self.bind(current)
            if card_bytes(card) <= self.max_bytes:
                return card
            current = current.shrink()
        raise CardTooLargeError(
            f"{type(view).__name__} stays over {self.max_bytes} bytes even when shrunk"
        )

    def bind(self, view: CardView) -> Card:
        """The card for `view` as it is, whatever its size."""
        name = template_name(view)
        try:
            template = self._templates[name]
        except KeyError:
            raise LookupError(f"no card template {name!r} in {TEMPLATES_DIR}") from None
        card: Card = bind(template, template_data(view))
        return card
