"""The Slack side from the settings: the channel (None when no bot token is set), and
what it adds to the shared access policy (its workspace allow-list and its admins)."""

from __future__ import annotations

from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.channels.slack import SlackChannel
from bot.errors import ConfigError
from bot.models import ChannelKind
from bot.settings import ENV_PREFIX, Settings


def slack_channel(settings: Settings) -> SlackChannel | None:
    """The Slack side when a bot token is set; None: Slack is off."""
    if settings.slack_bot_token is None:
        return None
    secret, app_token = settings.slack_signing_secret, settings.slack_app_token
    http = settings.slack_mode == "http"
    return SlackChannel(
        bot_token=settings.slack_bot_token.get_secret_value(),
        signing_secret=secret.get_secret_value() if http and secret else None,
        app_token=app_token.get_secret_value() if app_token else None,
        api_url=settings.slack_api_url,
    )


async def slack_access(settings: Settings, slack: SlackChannel | None) -> dict[str, Any]:
    """Keyword arguments for AccessPolicy: Slack's allow-list (the configured workspaces,
    else the bot token's own, from auth.test) and its admins."""
    if slack is None:
        return {}
    teams = settings.slack_allowed_team_ids or await _own_team(slack)
    admins = slack.admins(
        user_ids=settings.slack_admin_user_ids, usergroup_ids=settings.slack_admin_usergroup_ids
    )
    return {
        "allowed_orgs": {ChannelKind.SLACK: teams},
        "channel_admins": {ChannelKind.SLACK: admins},
    }


async def _own_team(slack: SlackChannel) -> tuple[str, ...]:
    """The bot token's workspace (auth.test); a token Slack refuses stops start-up clearly."""
    try:
        team = await slack.team_id()
    except SlackApiError as error:
        problem = error.response.get("error")
        raise ConfigError(
            [f"Slack refused {ENV_PREFIX}SLACK_BOT_TOKEN (auth.test: {problem})"]
        ) from error
    except (aiohttp.ClientError, TimeoutError) as error:
        raise ConfigError(
            [f"Slack could not be reached at {ENV_PREFIX}SLACK_API_URL ({type(error).__name__})"]
        ) from error
    return (team,) if team else ()


async def preflight(settings: Settings) -> list[str]:
    """Problems that stop `alertbot serve` before it starts: Slack refusing the bot token
    or not reachable (auth.test)."""
    slack = slack_channel(settings)
    if slack is None:
        return []
    try:
        await _own_team(slack)
    except ConfigError as error:
        return list(error.problems)
    finally:
        await slack.aclose()
    return []
