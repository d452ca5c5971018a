"""Adaptive Cards for Teams: the neutral views (bot.views) rendered with the templates in
templates/, each card kept under MAX_CARD_BYTES by shrinking its view.

    renderer = CardRenderer()          # once, in create_app
    card = renderer.render(alert_card_view(alert, rule, now=now))
"""

from bot.channels.teams.cards.render import (
    MAX_CARD_BYTES,
    TEMPLATES_DIR,
    Card,
    CardRenderer,
    CardTooLargeError,
    card_bytes,
)

__all__ = [
    "MAX_CARD_BYTES",
    "TEMPLATES_DIR",
    "Card",
    "CardRenderer",
    "CardTooLargeError",
    "card_bytes",
]
