"""What the bot's messages say, channel-neutral: typed views built from the domain.

Build a view with one of the builders; each channel renders it its own way (Teams:
bot.channels.teams.cards, Adaptive Cards; Slack: Block Kit) and checks that it fits,
shrinking the view (fewer rows, shorter cells) when it does not:

    view = alert_card_view(alert, rule, now=now)

Views hold data only: datetimes, a status enum, a severity level, buttons as a verb,
a label and their data. No colours, markup or time formats.
"""

from bot.views.actions import SNOOZE_DURATIONS, ActionData, Verb, alert_data
from bot.views.alert import alert_card_view, reply_kinds, reply_view, severity
from bot.views.answer import AnswerView, answer_view
from bot.views.choices import ASK_CHOOSE, ChoicesView, choices_view
from bot.views.lists import (
    alert_list_view,
    help_view,
    rule_detail_view,
    rule_list_view,
    subscription_list_view,
)
from bot.views.model import Button, CardView, CommandHelp, Option
from bot.views.portal import LogAnalyticsTarget, log_analytics_url
from bot.views.query import query_result_view

__all__ = [
    "ASK_CHOOSE",
    "SNOOZE_DURATIONS",
    "ActionData",
    "AnswerView",
    "Button",
    "CardView",
    "ChoicesView",
    "CommandHelp",
    "LogAnalyticsTarget",
    "Option",
    "Verb",
    "alert_card_view",
    "alert_data",
    "alert_list_view",
    "answer_view",
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
