"""The notice to the affected person in Block Kit (a Slack direct message). Pure.

Header (the rule's question), whose account, one section per event (what, when in the
reader's time zone, by whom, from which address), then either the two answers or what
the person answered and when; always a link button to review their sign-in methods.
The top-level text says the same in one line (notifications, screen readers).
"""

from __future__ import annotations

import json
from typing import Any, Final

from bot import messages
from bot.channels.slack.message import SlackMessage
from bot.channels.slack.text import (
    BUTTON_TEXT,
    BUTTON_VALUE,
    HEADER_TEXT,
    SECTION_TEXT,
    clip,
    escape,
    mrkdwn,
    plain,
    plain_when,
    when,
)
from bot.views.model import Button
from bot.views.notice import NoticeEventRow, NoticeView

#: The action id of the link button (Slack still sends a block_actions: acknowledged only).
SECURITY_INFO: Final = "notice.security_info"
_ASKING: Final = "Was this you? If it wasn't, say so and the security team is told at once."


def notice_message(view: NoticeView) -> SlackMessage:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": plain(f"🔐 {view.title}", HEADER_TEXT)},
        {
            "type": "section",
            "text": mrkdwn(f"Something changed on your account, *{escape(view.person)}*"),
        },
    ]
    blocks += [_event_block(row, view) for row in view.events]
    if view.more_events:
        note = messages.more_items(view.more_events, "event")
        blocks.append({"type": "context", "elements": [mrkdwn(escape(note))]})
    blocks.append({"type": "section", "text": mrkdwn(answer_line(view))})
    elements = [_button(b) for b in view.buttons]
    elements.append(
        {
            "type": "button",
            "action_id": SECURITY_INFO,
            "text": plain(view.security_info.title, BUTTON_TEXT),
            "url": view.security_info.url,
        }
    )
    blocks.append({"type": "actions", "block_id": f"notice:{view.notice_id}", "elements": elements})
    return SlackMessage(text=fallback(view), blocks=blocks)


def answer_line(view: NoticeView) -> str:
    """The question while there is no answer; the answer and when it was noted after."""
    at = when(view.answered_at, now=view.as_of) if view.answered_at else ""
    noted = f" Noted at {at}." if at else ""
    if view.answer == "was_me":
        return f":white_check_mark: *Thanks: you said this was you.*{noted}"
    if view.answer == "not_me":
        alert = f" (alert {view.alert_id})" if view.alert_id is not None else ""
        return (
            f":rotating_light: *You said this wasn't you.*{noted} The security team has been "
            f"alerted{alert} and will contact you."
        )
    return _ASKING


def fallback(view: NoticeView) -> str:
    first = view.events[0] if view.events else None
    what = f": {first.text} at {plain_when(first.at)}" if first else ""
    more = len(view.events) + view.more_events - 1
    others = f" and {more} more" if more > 0 else ""
    if view.answer == "was_me":
        state = " (you said this was you)"
    elif view.answer == "not_me":
        state = " (you said this wasn't you)"
    else:
        state = ""
    return f"{view.title} Your account {view.person}{what}{others}{state}"


def _event_block(row: NoticeEventRow, view: NoticeView) -> dict[str, Any]:
    lines = [f"*{escape(row.text)}*", f"When: {when(row.at, now=view.as_of)}"]
    if row.who:
        lines.append(f"By: {escape(row.who)}")
    if row.ip_address:
        lines.append(f"From: {escape(row.ip_address)}")
    return {"type": "section", "text": mrkdwn("\n".join(lines), SECTION_TEXT)}


def _button(button: Button) -> dict[str, Any]:
    value = json.dumps(button.data, separators=(",", ":"))
    element: dict[str, Any] = {
        "type": "button",
        "action_id": button.verb,
        "text": plain(clip(button.label, BUTTON_TEXT), BUTTON_TEXT),
        "value": clip(value, BUTTON_VALUE),
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element
