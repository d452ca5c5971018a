"""The notice to the person an event happened to, channel-neutral: what happened to their
account, when, who did it, from where; the two answers and where to review sign-in methods.

Every text here is data from the audit record (never markup) except the fixed wording.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from bot.views.model import Button, CardView, Link, Part


class NoticeEventRow(Part):
    at: datetime
    #: The rule's line for the event ("Reset user password").
    text: str
    #: "you", "an admin (ada@contoso.com)", "a self-service flow", or None if unknown.
    who: str | None = None
    ip_address: str | None = None


class NoticeView(CardView):
    as_of: datetime
    notice_id: str
    title: str
    #: Whose account: their UPN (or object id).
    person: str
    events: tuple[NoticeEventRow, ...]
    answer: Literal["was_me", "not_me"] | None = None
    answered_at: datetime | None = None
    #: The alert "This wasn't me" raised.
    alert_id: int | None = None
    #: The answers, while there is none yet.
    buttons: tuple[Button, ...] = ()
    security_info: Link
    more_events: int = 0

    def shrink(self) -> Self | None:
        if len(self.events) <= 1:
            return None
        keep = len(self.events) // 2
        more = self.more_events + len(self.events) - keep
        return self.model_copy(update={"events": self.events[:keep], "more_events": more})
