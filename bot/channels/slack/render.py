"""The Block Kit renderer of the neutral views (bot.views), within Slack's limits.

`SlackRenderer.render(view)` builds the message and checks it with slack_sdk's own
validation (bot.channels.slack.message); while it does not fit it renders the view's
smaller form (`shrink()`: fewer rows, shorter KQL), as the Teams renderer does. A view's
chart (an answer's trend, the digest's failures per day) goes with the message, to be
shared as an image once it is posted, even when the blocks had to leave its table out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Final

from bot.channels.slack import alert_blocks, digest_blocks, list_blocks, notice_blocks
from bot.channels.slack.message import SlackMessage
from bot.views.choices import ChoicesView
from bot.views.digest import DigestView
from bot.views.model import (
    AlertCardView,
    AlertListView,
    CardView,
    HelpCardView,
    ReplyView,
    RuleDetailView,
    RuleListView,
    SubscriptionListView,
)
from bot.views.notice import NoticeView
from bot.views.query_views import Chart, ResultCardView

#: Slack refuses (msg_too_long) well before this; blocks past it are cut first.
MAX_PAYLOAD: Final = 12_000
_MAX_SHRINKS: Final = 64

_BUILDERS: Final[dict[type[CardView], Callable[[Any], SlackMessage]]] = {
    AlertCardView: alert_blocks.alert_message,
    ReplyView: alert_blocks.reply_message,
    AlertListView: list_blocks.alert_list_message,
    SubscriptionListView: list_blocks.subscription_list_message,
    RuleListView: list_blocks.rule_list_message,
    RuleDetailView: list_blocks.rule_detail_message,
    HelpCardView: list_blocks.help_message,
    ChoicesView: list_blocks.choices_message,
    DigestView: digest_blocks.digest_message,
    NoticeView: notice_blocks.notice_message,
}


class MessageTooLargeError(ValueError):
    """Even the smallest form of the view breaks Slack's limits."""


def build(view: CardView) -> SlackMessage:
    """The message for `view` as it is, whatever its size."""
    builder = _BUILDERS.get(type(view))
    if builder is not None:
        return builder(view)
    if isinstance(view, ResultCardView):
        return list_blocks.result_message(view)
    raise LookupError(f"no Slack rendering for {type(view).__name__}")


class SlackRenderer:
    """bot.channels.delivery.Renderer for Slack: views to Block Kit messages."""

    def __init__(self, *, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload

    def render(self, view: CardView) -> SlackMessage:
        current: CardView | None = view
        problems: list[str] = []
        for _ in range(_MAX_SHRINKS):
            if current is None:
                break
            message = build(current)
            problems = message.problems()
            if message.size() > self.max_payload:
                problems.append(f"{message.size()} bytes of blocks")
            if not problems:
                return dataclasses.replace(message, chart=chart_of(view))
            current = current.shrink()
        raise MessageTooLargeError(f"{type(view).__name__}: {'; '.join(problems)}")


def chart_of(view: CardView) -> Chart | None:
    """The view's chart, titled with the answer's title when the query gave it none."""
    if not isinstance(view, ResultCardView | DigestView) or view.chart is None:
        return None
    title = getattr(view, "title", None)
    if view.chart.title == "Chart" and isinstance(title, str) and title:
        return view.chart.model_copy(update={"title": title})
    return view.chart
