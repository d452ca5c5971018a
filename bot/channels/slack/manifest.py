"""The Slack app manifest: manifest/slack/manifest.yaml filled from the settings.

`alertbot manifest --slack` prints it for "Create New App > From an app manifest"
(docs.slack.dev/reference/app-manifest): the app's name, the slash command, and either
Socket Mode (no public URL) or, in HTTP mode, POST /slack/events as the request URL of
events, interactivity and the slash command.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any, Final

import yaml

from bot.channels.slack.http import SLACK_PATH
from bot.errors import ConfigError
from bot.settings import ENV_PREFIX, Settings

TEMPLATE: Final = Path(__file__).resolve().parents[3] / "manifest" / "slack" / "manifest.yaml"


def build_manifest(settings: Settings, *, template: Path = TEMPLATE) -> dict[str, Any]:
    manifest: dict[str, Any] = deepcopy(yaml.safe_load(template.read_text(encoding="utf-8")))
    name = settings.slack_app_name
    manifest["display_information"]["name"] = name
    manifest["features"]["bot_user"]["display_name"] = name
    [command] = manifest["features"]["slash_commands"]
    command["command"] = settings.slack_slash_command
    socket = settings.slack_mode == "socket"
    manifest["settings"]["socket_mode_enabled"] = socket
    if not socket:
        if not settings.slack_public_url:
            raise ConfigError(
                [f"{ENV_PREFIX}SLACK_PUBLIC_URL is required for the manifest in HTTP mode"]
            )
        url = settings.slack_public_url.rstrip("/") + SLACK_PATH
        manifest["settings"]["event_subscriptions"]["request_url"] = url
        manifest["settings"]["interactivity"]["request_url"] = url
        command["url"] = url
    return manifest


def manifest_yaml(settings: Settings) -> str:
    return yaml.safe_dump(build_manifest(settings), sort_keys=False, allow_unicode=True)
