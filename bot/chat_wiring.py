"""People in chat: the command router behind Teams and Slack, and what it needs.

`chat_ctx` builds the router (commands, questions for the catalog, notice answers) with
its access policy (admin groups looked up in Microsoft Graph when configured) and hands
it to each chat channel for the application's lifetime.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.ask.catalog import Catalog
from bot.ask.chat import ChatAnswers
from bot.ask.service import Asker
from bot.channels.presenter import AlertPresenter
from bot.channels.teams import TEAMS_ENDPOINT, TeamsChannel
from bot.channels.teams.cards import CardRenderer
from bot.commands.access import AccessPolicy, EdgeGate, GraphGroupMembership
from bot.commands.router import CommandRouter
from bot.notices.answers import NoticeAnswers
from bot.settings import Settings
from bot.views import ASK_CHOOSE, LogAnalyticsTarget
from bot.web import CLOCK, DISPATCHER, HEALTH, PIPELINE, RULES, SETTINGS, STORE, WORKSPACE

if TYPE_CHECKING:  # Slack's SDK is imported only when Slack is configured
    from bot.channels.slack import SlackChannel

log = logging.getLogger(__name__)


def log_analytics_target(settings: Settings) -> LogAnalyticsTarget | None:
    """Where "Open in Log Analytics" leads; None (no button) unless both ids are set."""
    if settings.azure_tenant_id and settings.azure_workspace_resource_id:
        return LogAnalyticsTarget(settings.azure_tenant_id, settings.azure_workspace_resource_id)
    return None


def alert_presenter(app: web.Application) -> AlertPresenter:
    return AlertPresenter(
        store=app[STORE],
        rules=app[RULES],
        clock=app[CLOCK],
        log_analytics=log_analytics_target(app[SETTINGS]),
    )


async def chat_ctx(
    app: web.Application,
    *,
    teams: TeamsChannel,
    renderer: CardRenderer,
    questions: Catalog,
    slack: SlackChannel | None,
) -> AsyncIterator[None]:
    """People in chat: the command router behind Teams' POST /api/messages and Slack
    (POST /slack/events or Socket Mode); text that is no command is a question for the
    catalog (bot.ask)."""
    settings = app[SETTINGS]
    answers = ChatAnswers(
        Asker(catalog=questions, workspace=app[WORKSPACE], clock=app[CLOCK]),
        log_analytics=log_analytics_target(settings),
    )
    notice_answers = NoticeAnswers(
        store=app[STORE],
        rules=lambda: app[RULES].rules,
        clock=app[CLOCK],
        on_enqueued=app[DISPATCHER].wake,
    )
    async with _group_membership(settings) as membership:
        access = AccessPolicy.from_settings(
            settings, membership=membership, **(await _slack_access(settings, slack))
        )
        router = CommandRouter(
            store=app[STORE],
            pipeline=app[PIPELINE],
            rules=app[RULES],
            access=access,
            clock=app[CLOCK],
            log_analytics=log_analytics_target(settings),
            fallback=answers.answer,
            read_only_actions={ASK_CHOOSE: answers.answer_choice, **notice_answers.actions()},
            health=app[HEALTH],
        )
        app[TEAMS_ENDPOINT] = teams.endpoint(
            router=router,
            store=app[STORE],
            renderer=renderer,
            gate=EdgeGate(access),
            clock=app[CLOCK],
        )
        if slack is None:
            yield
            return
        slack.listen(
            router=router,
            store=app[STORE],
            gate=EdgeGate(access),
            clock=app[CLOCK],
            alert_view=alert_presenter(app).alert_view_by_id,
            slash_command=settings.slack_slash_command,
            entra=membership.user_by_email if membership and _maps_slack_emails(settings) else None,
        )
        from bot.channels.slack import SLACK_APP

        app[SLACK_APP] = slack.app
        if settings.slack_mode == "socket":
            await slack.start_socket_mode()
            log.info("slack: connected in Socket Mode")
        try:
            yield
        finally:
            await slack.close()


async def _slack_access(settings: Settings, slack: SlackChannel | None) -> dict[str, Any]:
    if slack is None:
        return {}
    from bot.channels.slack.wiring import slack_access

    return await slack_access(settings, slack)


def _maps_slack_emails(settings: Settings) -> bool:
    return settings.slack_enabled and settings.slack_map_emails_to_entra


@asynccontextmanager
async def _group_membership(settings: Settings) -> AsyncIterator[GraphGroupMembership | None]:
    """Admin groups (and, for Slack, users by email) are looked up in Microsoft Graph, with
    the Azure credential."""
    if not settings.admin_group_ids and not _maps_slack_emails(settings):
        yield None
        return
    from bot.workspace.azure import build_credential

    credential = build_credential(
        settings.azure_credential, settings.azure_managed_identity_client_id
    )
    membership = GraphGroupMembership(credential, cache_seconds=settings.admin_group_cache_seconds)
    try:
        yield membership
    finally:
        await membership.close()
        await credential.close()
