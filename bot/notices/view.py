"""A notice as the person sees it (the channel-neutral NoticeView)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from bot.notices.model import (
    EVENTS_SHOWN,
    NOT_ME,
    SECURITY_INFO_URL,
    WAS_ME,
    Notice,
    NoticeEvent,
    Person,
)
from bot.views.model import Button, Link
from bot.views.notice import NoticeEventRow, NoticeView

_LABELS: Final = {"was_me": ("This was me", WAS_ME), "not_me": ("This wasn't me", NOT_ME)}


def notice_view(
    notice: Notice, *, title: str, buttons: tuple[str, ...], now: datetime
) -> NoticeView:
    """The notice at `now`: with its answers while unanswered, with the answer after."""
    shown = () if notice.answer is not None else buttons
    return NoticeView(
        as_of=now,
        notice_id=notice.id,
        title=title,
        person=notice.person.label,
        events=tuple(_row(event, notice.person) for event in notice.events),
        answer=notice.answer.value if notice.answer else None,
        answered_at=notice.answered_at,
        alert_id=notice.alert_id,
        buttons=tuple(_button(kind, notice) for kind in shown),
        security_info=Link(title="Review your sign-in methods", url=SECURITY_INFO_URL),
    )


def _button(kind: str, notice: Notice) -> Button:
    """The answer, with how many events this message shows (bot.notices.answers: "This
    was me" pressed on a message that showed fewer is asked again, not recorded)."""
    label, verb = _LABELS[kind]
    style = "danger" if verb == NOT_ME else "primary"
    data = {"notice_id": notice.id, EVENTS_SHOWN: len(notice.events)}
    return Button(verb=verb, label=label, data=data, style=style)


def _row(event: NoticeEvent, person: Person) -> NoticeEventRow:
    return NoticeEventRow(
        at=event.at, text=event.text, who=who(event, person), ip_address=event.ip_address
    )


def who(event: NoticeEvent, person: Person) -> str | None:
    """Who did it, in the person's terms."""
    initiator = event.initiated_by
    if not initiator:
        return None
    names = {n.lower() for n in (person.upn, person.object_id) if n}
    if initiator.lower() in names:
        return "you (or someone signed in as you)"
    if "@" in initiator:
        return f"an admin ({initiator})"
    return f"an app or self-service flow ({initiator})"
