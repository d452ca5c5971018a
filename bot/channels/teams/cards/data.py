"""What each Adaptive Card template is bound with: a neutral view in Teams' terms. Pure.

The views (bot.views) hold data; the templates want Teams' words for it: text colours and
container styles, times as `{{DATE()}}`/`{{TIME()}}`, one flag per state for `$when`,
and buttons as Action.Execute. `template_data(view)` gives that dict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final, Literal

from bot import messages
from bot.channels.teams.cards.alert_rows import alert_row_data, severity_data
from bot.channels.teams.cards.digest_data import digest_data
from bot.channels.teams.cards.timefmt import when
from bot.models import AlertStatus
from bot.views.answer import AnswerView
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
from bot.views.query_views import QueryResultView, ResultCardView

ContainerStyle = Literal["default", "emphasis", "good", "attention", "warning", "accent"]

_REPLY_STYLES: Final[dict[str, ContainerStyle]] = {
    "renotify": "attention",
    "resolved": "good",
    "snooze_expired": "warning",
    "evaluation_error": "warning",
    "evaluation_recovered": "good",
}
#: The most columns a table gets at the width Teams gives a card in a channel (about
#: 450 px): wider results become one short list of "column: value" lines per row.
MAX_TABLE_COLUMNS: Final = 3
#: Characters of a line at that width (small text, with room to spare), and where a
#: browser may break one: at spaces and after hyphens.
LINE_CHARS: Final = 52
_WORD: Final = re.compile(r"[^\s-]+")
#: The verbs the alert card's buttons send, as the template's flags name them.
_ALERT_BUTTONS: Final = {
    "alert.ack": "acknowledge",
    "alert.snooze": "snooze",
    "alert.unsnooze": "unsnooze",
    "alert.resolve": "resolve",
}

#: Each view type's template in the top-level cards/ folder.
TEMPLATES: Final[dict[type[CardView], str]] = {
    AlertCardView: "alert.json",
    ReplyView: "alert-reply.json",
    HelpCardView: "help.json",
    AlertListView: "alert-list.json",
    SubscriptionListView: "subscriptions.json",
    RuleListView: "rules.json",
    RuleDetailView: "rule.json",
    ChoicesView: "choices.json",
    QueryResultView: "query-result.json",
    AnswerView: "answer.json",
    DigestView: "digest.json",
    NoticeView: "notice.json",
}


def template_name(view: CardView) -> str:
    for kind in type(view).__mro__:
        name = TEMPLATES.get(kind)
        if name is not None:
            return name
    raise LookupError(f"no card template for {type(view).__name__}")


def template_data(view: CardView) -> dict[str, Any]:
    """The dict `view`'s template is bound with."""
    data = view.model_dump(mode="json")
    shaper = _SHAPERS.get(type(view))
    if shaper is not None:
        shaper(view, data)
    return data


def header_style(state: AlertStatus, level: int) -> ContainerStyle:
    if state is AlertStatus.RESOLVED:
        return "good"
    if state is AlertStatus.FIRING:
        return "attention" if level <= 1 else "warning"
    return "emphasis"


def _alert(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, AlertCardView)
    now, status = view.as_of, view.status
    data["severity"] = severity_data(view.severity)
    data["header_style"] = header_style(status.state, view.severity.level)
    data["status"] |= {
        "state": status.state.value,
        "firing": status.state is AlertStatus.FIRING,
        "acknowledged": status.state is AlertStatus.ACKNOWLEDGED,
        "snoozed": status.state is AlertStatus.SNOOZED,
        "resolved": status.state is AlertStatus.RESOLVED,
        "since": when(status.since, now=now),
        "at": _when(status.at, now),
        "until": _when(status.until, now),
    }
    data["window"] |= {
        "start": when(view.window.start, now=now),
        "end": when(view.window.end, now=now),
    }
    flags = {flag: view.button(verb) is not None for verb, flag in _ALERT_BUTTONS.items()}
    first = view.buttons[0].data if view.buttons else None
    data["actions"] = {
        "data": first,
        **flags,
        "query": True,
        "portal_url": view.portal_url,
    }
    if data.get("evidence"):
        data["evidence"] = table_data(data["evidence"])
    del data["buttons"], data["portal_url"], data["as_of"]


def _reply(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, ReplyView)
    for kind in _REPLY_STYLES:
        data[kind] = view.kind == kind
    data["style"] = _REPLY_STYLES[view.kind]
    data["at"] = when(view.at, now=view.as_of)
    del data["as_of"]


def _alert_list(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, AlertListView)
    data["rows"] = [alert_row_data(row, view.as_of) for row in view.rows]
    del data["as_of"]


def _subscriptions(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, SubscriptionListView)
    for row, shown in zip(view.rows, data["rows"], strict=True):
        shown["created_at"] = when(row.created_at, now=view.as_of)
    del data["as_of"]


def _rules(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, RuleListView)
    for row, shown in zip(view.rows, data["rows"], strict=True):
        shown["severity"] = severity_data(row.severity)


def _rule(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, RuleDetailView)
    data["severity"] = severity_data(view.severity)
    data["last"]["evaluated_at"] = _when(view.last.evaluated_at, view.as_of)
    del data["as_of"]


def _choices(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, ChoicesView)
    data["buttons"] = [
        {"type": "Action.Execute", "title": b.label, "verb": b.verb, "data": b.data}
        for b in view.buttons
    ]


def _notice(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, NoticeView)
    for row, shown in zip(view.events, data["events"], strict=True):
        shown["at"] = when(row.at, now=view.as_of)
    data["asking"] = view.answer is None
    data["was_me"] = view.answer == "was_me"
    data["not_me"] = view.answer == "not_me"
    data["header_style"] = {"was_me": "good", "not_me": "attention"}.get(
        view.answer or "", "warning"
    )
    data["answered_at"] = _when(view.answered_at, view.as_of)
    data["more_note"] = messages.more_items(view.more_events, "event") if view.more_events else ""
    actions: list[dict[str, Any]] = [
        {
            "type": "Action.Execute",
            "title": b.label,
            "verb": b.verb,
            "data": b.data,
            "style": "destructive" if b.style == "danger" else "positive",
        }
        for b in view.buttons
    ]
    actions.append(
        {"type": "Action.OpenUrl", "title": view.security_info.title, "url": view.security_info.url}
    )
    data["actions"] = actions
    del data["buttons"], data["as_of"], data["security_info"]


def _result(view: Any, data: dict[str, Any]) -> None:
    assert isinstance(view, ResultCardView)
    data["table"] = table_data(data["table"])
    if data.get("chart"):
        data["chart"]["table"] = table_data(data["chart"]["table"])


def table_data(table: dict[str, Any]) -> dict[str, Any]:
    """`table` with `narrow` and its column widths when it fits the card, else `records`.

    A table fits when it has at most MAX_TABLE_COLUMNS columns and its columns' longest
    words fit side by side on one line of the card; each column is then as wide as its
    longest word, so no word runs into the next column. Otherwise each row becomes a
    list of "column: value" lines.
    """
    columns: list[str] = table["columns"]
    cells = [row["cells"] for row in table["rows"]]
    longest = (
        [
            max(_longest_word(text) for text in (name, *col))
            for name, *col in zip(columns, *cells, strict=True)
        ]
        if cells
        else [_longest_word(c) for c in columns]
    )
    fits = len(columns) <= MAX_TABLE_COLUMNS and sum(longest) <= LINE_CHARS
    records = [
        {"facts": [{"name": n, "value": v} for n, v in zip(columns, row, strict=True)]}
        for row in cells
    ]
    return {
        **table,
        "narrow": bool(cells) and fits,
        "widths": [{"width": max(n, 4)} for n in longest],
        "records": [] if fits else records,
    }


def _longest_word(text: str) -> int:
    return max((len(word) for word in _WORD.findall(text)), default=0)


def _when(at: datetime | None, now: datetime) -> str | None:
    return None if at is None else when(at, now=now)


_SHAPERS: Final[dict[type[CardView], Callable[[CardView, dict[str, Any]], None]]] = {
    AlertCardView: _alert,
    ReplyView: _reply,
    AlertListView: _alert_list,
    SubscriptionListView: _subscriptions,
    RuleListView: _rules,
    RuleDetailView: _rule,
    ChoicesView: _choices,
    DigestView: digest_data,
    NoticeView: _notice,
    QueryResultView: _result,
    AnswerView: _result,
}
