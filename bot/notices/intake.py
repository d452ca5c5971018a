"""A notify_person rule's rows become notices: one per audit record, grouped per person.

Each evaluation queries the rule's window; rows whose record id a notice already holds are
skipped (the store keeps the ids: re-runs and restarts send nothing twice). New events
are grouped per person (events within the rule's `group_within` of the group's first
make one notice), people outside the pilot or opted out are skipped, and a person who
already had `per_person_per_hour` notices in the last hour gets the events added to
their latest *unanswered* notice instead of a new one. An answered notice asks nothing
more, so when every recent notice is answered the events get a new notice, over the
limit (logged). Events joining a notice already delivered enqueue its update: the
person's message is brought up to date (bot.notices.delivery); a notice not delivered
yet shows them when it is. The notices, their record ids and their outbox items commit
in one transaction; another replica committing the same records first makes ours roll
back whole (nothing is sent twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol

from bot.alerts.rule_model import NOTICE_PLACEHOLDER, NotifyPerson, Rule
from bot.alerts.runner import run_query
from bot.alerts.state import QueryFailure
from bot.models import AlertEvent, AlertEventKind, ChannelKind, OutboxItem
from bot.notices.model import Notice, NoticeEvent, Person, notice_id
from bot.store.base import ConflictError, Store, StoreOperations, new_outbox_item
from bot.workspace.base import QueryResult, Workspace

log = logging.getLogger(__name__)

RATE_PERIOD: Final = timedelta(hours=1)
#: The outbox conversation a notice's delivery is filed under (the person has none yet).
NOTICE_CONVERSATION: Final = "notice:"


class Membership(Protocol):
    """Group membership (Microsoft Graph, transitive), as bot.commands.access offers it."""

    async def member_of(self, user_id: str, group_ids: Sequence[str]) -> bool: ...


@dataclass(frozen=True)
class NoticePolicy:
    """Who may get notices, and how many."""

    per_person_per_hour: int = 3
    #: Object ids or UPNs (lower case); empty with no pilot groups: everyone.
    pilot_users: frozenset[str] = frozenset()
    pilot_groups: tuple[str, ...] = ()
    opted_out_users: frozenset[str] = frozenset()
    opted_out_groups: tuple[str, ...] = ()
    membership: Membership | None = field(default=None, compare=False)

    async def allows(self, person: Person) -> bool:
        names = {n.lower() for n in (person.object_id, person.upn) if n}
        if names & self.opted_out_users:
            return False
        if self.opted_out_groups and await self._member(person, self.opted_out_groups):
            return False
        if not self.pilot_users and not self.pilot_groups:
            return True
        return bool(names & self.pilot_users) or (
            bool(self.pilot_groups) and await self._member(person, self.pilot_groups)
        )

    async def _member(self, person: Person, groups: Sequence[str]) -> bool:
        if self.membership is None or not person.object_id:
            return False
        try:
            return await self.membership.member_of(person.object_id, groups)
        except Exception as error:  # Graph unreachable: in doubt, no notice (logged)
            log.warning("notices: group membership of %s unknown: %s", person.label, error)
            return False


@dataclass(frozen=True, slots=True)
class Intake:
    """What one evaluation of a notify_person rule did."""

    rule_id: str
    at: datetime
    events: int = 0
    already_known: int = 0
    skipped_people: int = 0
    new_notices: tuple[Notice, ...] = ()
    grouped_into_earlier: int = 0
    #: Delivered notices that events joined: their messages are being brought up to date.
    updated_notices: tuple[str, ...] = ()
    error: str | None = None


class NoticeIntake:
    """Evaluates notify_person rules into notices and their outbox items."""

    def __init__(
        self,
        *,
        store: Store,
        workspace: Workspace,
        policy: NoticePolicy,
        on_enqueued: Callable[[], None] = lambda: None,
    ) -> None:
        self._store = store
        self._workspace = workspace
        self._policy = policy
        self._on_enqueued = on_enqueued

    async def evaluate(self, rule: Rule, *, now: datetime) -> Intake:
        spec = rule.notify_person
        if spec is None:
            raise ValueError(f"rule {rule.id} does not notify people")
        outcome = await run_query(rule, self._workspace, at=now)
        if isinstance(outcome, QueryFailure):
            log.warning("notices: rule %s: the query failed: %s", rule.id, outcome.message)
            return Intake(rule.id, now, error=outcome.message)
        events = events_of(spec, outcome)
        try:
            intake = await self._commit(rule, spec, events, now)
        except ConflictError as error:  # another replica took some of these records first
            log.info("notices: rule %s: %s; the next run takes the rest", rule.id, error)
            return Intake(rule.id, now, events=len(events), error=str(error))
        _log(intake)
        if intake.new_notices or intake.updated_notices:
            self._on_enqueued()
        return intake

    async def _commit(
        self,
        rule: Rule,
        spec: NotifyPerson,
        events: Sequence[tuple[Person, NoticeEvent]],
        now: datetime,
    ) -> Intake:
        async with self._store.transaction() as tx:
            known = await tx.known_notice_records([e.record_id for _, e in events])
            by_person: dict[str, tuple[Person, list[NoticeEvent]]] = {}
            for person, event in events:
                if event.record_id not in known:
                    by_person.setdefault(person.key, (person, []))[1].append(event)
            skipped = 0
            created: list[Notice] = []
            joined: list[Notice] = []
            for person, fresh in by_person.values():
                if not await self._policy.allows(person):
                    skipped += 1
                    continue
                for group in group_events(fresh, spec.group_within):
                    placed = await self._place(tx, rule, person, group, now)
                    (created if placed.is_new else joined).append(placed.notice)
            updated = _updated(joined)
            await tx.enqueue(
                [notice_delivery(n, now) for n in created]
                + [notice_update(n, now) for n in updated]
            )
        return Intake(
            rule.id,
            now,
            events=len(events),
            already_known=sum(1 for _, e in events if e.record_id in known),
            skipped_people=skipped,
            new_notices=tuple(created),
            grouped_into_earlier=len(joined),
            updated_notices=tuple(n.id for n in updated),
        )

    async def _place(
        self,
        tx: StoreOperations,
        rule: Rule,
        person: Person,
        group: Sequence[NoticeEvent],
        now: datetime,
    ) -> Placed:
        """A new notice for `group`, or, when the person had enough this hour, their
        latest unanswered notice with the events joined."""
        recent = await tx.list_notices(person_key=person.key, since=now - RATE_PERIOD)
        if len(recent) >= self._policy.per_person_per_hour:
            joined = await _join(tx, recent, group)
            if joined is not None:
                return Placed(joined, is_new=False)
            log.info(
                "notices: %s had %d notice(s) this hour, over the limit of %d, but all are "
                "answered: a new notice asks about %d more event(s)",
                person.label,
                len(recent),
                self._policy.per_person_per_hour,
                len(group),
            )
        notice = Notice(
            id=notice_id(rule.id, person, group[0].record_id),
            rule_id=rule.id,
            person=person,
            created_at=now,
            events=tuple(group),
        )
        await tx.add_notice(notice)
        return Placed(notice, is_new=True)


@dataclass(frozen=True, slots=True)
class Placed:
    """Where a group of events went: a new notice, or an earlier one they joined."""

    notice: Notice
    is_new: bool


async def _join(
    tx: StoreOperations, recent: Sequence[Notice], group: Sequence[NoticeEvent]
) -> Notice | None:
    """The latest unanswered of `recent` with `group` added; None when all are answered
    (an answered notice asks nothing more: the events need a new question)."""
    for candidate in reversed(recent):
        if candidate.answer is None:
            joined = await tx.add_notice_events(candidate.id, group)
            if joined is not None:  # else answered meanwhile: an earlier one, if any
                return joined
    return None


def _updated(joined: Sequence[Notice]) -> list[Notice]:
    """The delivered notices among `joined` (each once, as it is last): their messages
    need the new events; one not delivered yet will show them when it is."""
    latest = {notice.id: notice for notice in joined}
    return [notice for notice in latest.values() if notice.delivered_via is not None]


def notice_delivery(notice: Notice, now: datetime) -> OutboxItem:
    """The outbox item that delivers `notice` (the event names it by id)."""
    event = AlertEvent(kind=AlertEventKind.NOTICE, at=now, rule_id=notice.rule_id, detail=notice.id)
    return new_outbox_item(
        event,
        conversation_id=f"{NOTICE_CONVERSATION}{notice.id}",
        channel=ChannelKind.TEAMS,
        not_before=now,
    )


def notice_update(notice: Notice, now: datetime) -> OutboxItem:
    """The outbox item that brings the person's message of `notice` up to date: filed
    under the notice's delivery conversation, so it goes after the delivery."""
    event = AlertEvent(
        kind=AlertEventKind.NOTICE_UPDATE, at=now, rule_id=notice.rule_id, detail=notice.id
    )
    return new_outbox_item(
        event,
        conversation_id=f"{NOTICE_CONVERSATION}{notice.id}",
        channel=ChannelKind.TEAMS,
        not_before=now,
    )


def group_events(events: Sequence[NoticeEvent], within: timedelta) -> list[list[NoticeEvent]]:
    """Time order; a new group starts when an event is more than `within` after the
    current group's first."""
    groups: list[list[NoticeEvent]] = []
    for event in sorted(events, key=lambda e: (e.at, e.record_id)):
        if groups and event.at - groups[-1][0].at <= within:
            groups[-1].append(event)
        else:
            groups.append([event])
    return groups


def events_of(spec: NotifyPerson, result: QueryResult) -> list[tuple[Person, NoticeEvent]]:
    """(person, event) per usable row; rows without a record id, a person or a time are
    logged and left out."""
    found: list[tuple[Person, NoticeEvent]] = []
    names = [c.name for c in result.columns]
    missing = [c for c in spec.columns() if c not in names]
    if missing:
        log.warning("notices: the query returns no %s column(s)", ", ".join(missing))
        return []
    for row in result.rows:
        values = dict(zip(names, row, strict=True))
        pair = _event(spec, values)
        if pair is None:
            log.info("notices: a row without record id, person or time was left out")
        else:
            found.append(pair)
    return found


def _event(spec: NotifyPerson, values: dict[str, Any]) -> tuple[Person, NoticeEvent] | None:
    record_id, at = _text(values.get(spec.record_id_column)), values.get(spec.time_column)
    person = Person(
        object_id=_text(values.get(spec.object_id_column or "")),
        upn=_text(values.get(spec.upn_column or "")),
    )
    if record_id is None or not person.key or not isinstance(at, datetime):
        return None
    text = NOTICE_PLACEHOLDER.sub(lambda m: _text(values.get(m.group(1))) or "", spec.text)
    return person, NoticeEvent(
        record_id=record_id,
        at=at if at.tzinfo else at.replace(tzinfo=UTC),
        activity=_text(values.get(spec.activity_column)) or "",
        text=text,
        initiated_by=_text(values.get(spec.initiated_by_column or "")),
        ip_address=_text(values.get(spec.ip_column or "")),
    )


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _log(intake: Intake) -> None:
    log.info(
        "notices: rule %s at %s: %d event(s), %d told before, %d new notice(s), "
        "%d grouped into earlier ones (%d delivered: updated), "
        "%d person(s) not in the pilot or opted out",
        intake.rule_id,
        intake.at.isoformat(),
        intake.events,
        intake.already_known,
        len(intake.new_notices),
        intake.grouped_into_earlier,
        len(intake.updated_notices),
        intake.skipped_people,
    )
    for notice in intake.new_notices:
        log.info(
            "notices: notice %s for %s: %d event(s)",
            notice.id,
            notice.person.label,
            len(notice.events),
        )
