"""Adaptive Cards for Teams: typed views built from the domain, rendered with cards/*.json.

Build a view with one of the builders, then render it:

    renderer = CardRenderer()          # once, in create_app
    card = renderer.render(alert_card_view(alert, rule, now=now))

Rendering is pure and keeps every card under MAX_CARD_BYTES by shrinking the view
(fewer rows, shorter cells) and saying what was left out.
"""

from bot.cards.actions import SNOOZE_DURATIONS, ActionData, Verb, alert_data
from bot.cards.alert import alert_card_view, reply_kinds, reply_view, severity
from bot.cards.answer import AnswerView, answer_view
from bot.cards.choices import ASK_CHOOSE, ChoicesView, choices_view
from bot.cards.lists import (
    alert_list_view,
    help_view,
    rule_detail_view,
    rule_list_view,
    subscription_list_view,
)
from bot.cards.portal import LogAnalyticsTarget, log_analytics_url
from bot.cards.query import query_result_view
from bot.cards.render import MAX_CARD_BYTES, Card, CardRenderer, CardTooLargeError, card_bytes
from bot.cards.views import CardView, CommandHelp

__all__ = [
    "ASK_CHOOSE",
    "MAX_CARD_BYTES",
    "SNOOZE_DURATIONS",
    "ActionData",
    "AnswerView",
    "Card",
    "CardRenderer",
    "CardTooLargeError",
    "CardView",
    "ChoicesView",
    "CommandHelp",
    "LogAnalyticsTarget",
    "Verb",
    "alert_card_view",
    "alert_data",
    "alert_list_view",
    "answer_view",
    "card_bytes",
    "choices_view",
    "help_view",
    "log_analytics_url",
    "query_result_view",
    "reply_kinds",
    "reply_view",
    "rule_detail_view",
    "rule_list_view",
    "severity",
    "subscription_list_view",
]
