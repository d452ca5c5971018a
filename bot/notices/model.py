"""Notices to the person an event happened to: what they are told and what they answered.

A notice holds one or more events (audit records) for one person, found by a rule with a
`notify_person` section. Each event keeps only the columns the rule names (record id,
time, activity, initiator, IP address): nothing else of the audit record is stored or shown.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field

#: Where a person reviews their sign-in methods (shown on every notice).
SECURITY_INFO_URL: Final = "https://mysignins.microsoft.com/security-info"
#: The verbs of a notice's buttons.
WAS_ME: Final = "notice.was_me"
NOT_ME: Final = "notice.not_me"
#: The key in a button's data: how many of the notice's events (the first ones) the message
#: with the button showed. An answer of "This was me" covers exactly those.
EVENTS_SHOWN: Final = "events_shown"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(StrEnum):
    WAS_ME = "was_me"
    NOT_ME = "not_me"


class Person(_Model):
    """Whom a notice is for, as the audit record names them."""

    object_id: str | None = None
    upn: str | None = None

    @property
    def key(self) -> str:
        """One id per person (lower case): the object id, else the UPN."""
        return (self.object_id or self.upn or "").lower()

    @property
    def label(self) -> str:
        return self.upn or self.object_id or "unknown"


class NoticeEvent(_Model):
    """One audit record as the notice shows it."""

    record_id: str = Field(min_length=1)
    at: datetime
    activity: str
    #: The notice's text line for this event (the rule's text with the row's values).
    text: str
    initiated_by: str | None = None
    ip_address: str | None = None


class Notice(_Model):
    """One message to one person about one or more events."""

    id: str
    rule_id: str
    person: Person
    created_at: datetime
    events: tuple[NoticeEvent, ...]
    answer: Answer | None = None
    answered_at: datetime | None = None
    #: The alert "This wasn't me" raised.
    alert_id: int | None = None
    #: How it reached the person ("teams", "teams-create", "teams-install", "slack", "email").
    delivered_via: str | None = None
    conversation_id: str | None = None
    message_id: str | None = None
    #: When "no answer yet" was raised as a reminder alert (at most once).
    reminded_at: datetime | None = None
    #: How many of `events` (the first ones) the person was told about: what their chat
    #: message shows, or what their email and its follow-ups listed.
    told_events: int = Field(default=0, ge=0)

    @property
    def untold(self) -> tuple[NoticeEvent, ...]:
        """The events that joined after the person was told (none before delivery)."""
        return self.events[self.told_events :] if self.delivered_via else ()

    @property
    def first_at(self) -> datetime:
        return min(event.at for event in self.events)

    @property
    def initiators(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.initiated_by for e in self.events if e.initiated_by))

    @property
    def ip_addresses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.ip_address for e in self.events if e.ip_address))


def notice_id(rule_id: str, person: Person, first_record_id: str) -> str:
    """Stable: the same first record for the same person gives the same notice."""
    digest = hashlib.sha256(f"{rule_id}\n{person.key}\n{first_record_id}".encode()).hexdigest()
    return digest[:24]
