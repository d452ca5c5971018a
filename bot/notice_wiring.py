"""Composition of notices to the affected person (bot.notices), for app.py.

With ALERTBOT_NOTICES_ENABLED, notify_person rules are evaluated into notices and each
notice is delivered through the ways configured, in order: the Teams 1:1 chat the bot
has, a new 1:1 chat (Bot Connector), the app installed with Microsoft Graph then its chat
(ALERTBOT_NOTICES_TEAMS_APP_EXTERNAL_ID), a Slack direct message when Slack is configured
(the Reach app.py gets from bot.channels.slack: this module never imports Slack), email
(ALERTBOT_NOTICES_MAIL_SENDER). Without it, notify_person rules are not run at all. The
buttons of notices already sent keep working. With ALERTBOT_NOTICES_REMINDER_MINUTES, a
periodic check raises a reminder alert for notices nobody answered (bot.notices.reminders).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from aiohttp import web

from bot.alerts.reload import RuleBook
from bot.channels.teams import TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.personal import (
    TeamsExistingChat,
    TeamsInstalledChat,
    TeamsNewChat,
    TeamsParts,
)
from bot.commands.access import GraphGroupMembership
from bot.models import Clock
from bot.notices.delivery import Reach
from bot.notices.graph import GraphClient, GraphMailer, GraphTeamsInstaller
from bot.notices.intake import NoticeIntake, NoticePolicy
from bot.notices.reminders import NoticeReminders
from bot.settings import Settings
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass
class NoticeParts:
    """What the notices share across the app's lifetime (Graph, when configured)."""

    graph: GraphClient | None = None
    membership: GraphGroupMembership | None = None


NOTICE_PARTS: Final = web.AppKey("notice_parts", NoticeParts)
NOTICE_INTAKE: Final = web.AppKey("notice_intake", NoticeIntake)


def needs_graph(settings: Settings) -> bool:
    return bool(
        settings.notices_teams_app_external_id
        or settings.notices_mail_sender
        or settings.notices_pilot_group_ids
        or settings.notices_opt_out_group_ids
    )


@asynccontextmanager
async def notice_parts(settings: Settings) -> AsyncIterator[NoticeParts]:
    """Graph clients for notices (closed at the end), or none when not needed."""
    if not settings.notices_enabled or not needs_graph(settings):
        yield NoticeParts()
        return
    from bot.workspace.azure import build_credential

    credential = build_credential(
        settings.azure_credential, settings.azure_managed_identity_client_id
    )
    graph = GraphClient(credential, endpoint=settings.graph_endpoint)
    membership = GraphGroupMembership(
        credential,
        endpoint=settings.graph_endpoint,
        cache_seconds=settings.admin_group_cache_seconds,
    )
    try:
        yield NoticeParts(graph=graph, membership=membership)
    finally:
        await membership.close()
        await graph.close()
        await credential.close()


@asynccontextmanager
async def notice_reminders(
    settings: Settings,
    *,
    store: Store,
    book: RuleBook,
    clock: Clock,
    on_enqueued: Callable[[], None],
) -> AsyncIterator[NoticeReminders | None]:
    """The no-answer reminder check, running while the block runs; None when notices,
    reminders (ALERTBOT_NOTICES_REMINDER_MINUTES) or the scheduler are off."""
    minutes = settings.notices_reminder_minutes
    if not (settings.notices_enabled and minutes and settings.scheduler_enabled):
        yield None
        return
    reminders = NoticeReminders(
        store=store,
        rules=lambda: book.rules,
        clock=clock,
        after=timedelta(minutes=minutes),
        on_rule=book.add_external,
        on_enqueued=on_enqueued,
    )
    await reminders.start()
    log.info("notices: a reminder alert when a notice has no answer after %d minutes", minutes)
    try:
        yield reminders
    finally:
        await reminders.stop()


def notice_policy(settings: Settings, parts: NoticeParts) -> NoticePolicy:
    return NoticePolicy(
        per_person_per_hour=settings.notices_per_person_per_hour,
        pilot_users=frozenset(settings.notices_pilot_user_ids),
        pilot_groups=settings.notices_pilot_group_ids,
        opted_out_users=frozenset(settings.notices_opt_out_user_ids),
        opted_out_groups=settings.notices_opt_out_group_ids,
        membership=parts.membership,
    )


def notice_reaches(
    settings: Settings,
    parts: NoticeParts,
    *,
    teams: TeamsChannel,
    store: Store,
    renderer: CardRenderer,
    clock: Clock,
    chat: Sequence[Reach] = (),
) -> Sequence[Reach]:
    """The ways to reach a person, in the order they are tried; `chat`: other chat
    platforms' ways (Slack), tried after Teams and before email."""
    common = TeamsParts(connector=teams.connector, store=store, renderer=renderer, clock=clock)
    reaches: list[Reach] = [TeamsExistingChat(common), TeamsNewChat(common)]
    if parts.graph is not None and settings.notices_teams_app_external_id:
        installer = GraphTeamsInstaller(
            parts.graph, external_id=settings.notices_teams_app_external_id
        )
        reaches.append(TeamsInstalledChat(common, installer=installer))
    reaches.extend(chat)
    if parts.graph is not None and settings.notices_mail_sender:
        reaches.append(GraphMailer(parts.graph, sender=settings.notices_mail_sender))
    log.info("notices reach people by: %s", ", ".join(r.name for r in reaches))
    return reaches
