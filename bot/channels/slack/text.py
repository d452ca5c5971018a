"""Slack text: mrkdwn escaping, times shown in each reader's zone, and limits. Pure.

Text from logs or people goes into `plain_text` objects or is escaped here, so it is never
read as markup (a `<!channel>` in a log line stays text). Times become
`<!date^epoch^{date_short_pretty} {time}|fallback>`, which Slack shows in the reader's time
zone, as Teams' {{DATE()}} does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

ELLIPSIS: Final = "…"
#: Documented limits (docs.slack.dev/reference/block-kit): blocks per message, header text,
#: section text, a field, fields per section, context elements, actions elements, a
#: button's text, an option's text and value, a button's value, a URL.
MAX_BLOCKS: Final = 50
HEADER_TEXT: Final = 150
SECTION_TEXT: Final = 3000
FIELD_TEXT: Final = 2000
MAX_FIELDS: Final = 10
MAX_CONTEXT: Final = 10
MAX_ACTIONS: Final = 25
BUTTON_TEXT: Final = 75
OPTION_TEXT: Final = 75
OPTION_VALUE: Final = 150
BUTTON_VALUE: Final = 2000
URL_LENGTH: Final = 3000
#: The top-level `text` (notifications, screen readers); Slack cuts at 40,000.
FALLBACK_TEXT: Final = 3000


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + ELLIPSIS


def escape(text: str) -> str:
    """Text shown in mrkdwn exactly as it is (docs: escape &, < and >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text or " ", limit), "emoji": False}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, Any]:
    """mrkdwn of our own making (values already escaped), clipped to `limit`."""
    return {"type": "mrkdwn", "text": clip(text or " ", limit)}


def when(at: datetime, *, now: datetime) -> str:
    """The time in the reader's zone: `14:05` today, `Mar 2 14:05` on other days."""
    epoch = int(at.timestamp())
    fallback = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    same_day = at.astimezone(UTC).date() == now.astimezone(UTC).date()
    form = "{time}" if same_day else "{date_short_pretty} {time}"
    return f"<!date^{epoch}^{form}|{fallback}>"


def plain_when(at: datetime) -> str:
    """The same time for the plain top-level text (no markup there)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def code(lines: tuple[str, ...] | list[str], limit: int = SECTION_TEXT) -> str:
    """Lines as a code block (inside one, Slack shows text as it is)."""
    body = "\n".join(lines).replace("```", "'''")
    return "```" + clip(escape(body), limit - 6) + "```"
