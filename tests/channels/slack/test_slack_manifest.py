"""The Slack app manifest (docs.slack.dev/reference/app-manifest): filled from settings,
Socket Mode on by default, HTTP mode with POST /slack/events as every request URL, and
every event the bot listens to subscribed with the scopes it needs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.channels.slack.manifest import build_manifest
from bot.errors import ConfigError
from bot.playground.processes import free_port
from bot.settings import Settings
from tests.support.slack.state import BOT_SCOPES


def test_socket_mode_needs_no_url() -> None:
    manifest = build_manifest(Settings(_env_file=None, slack_app_name="IdOps Alerts"))
    assert manifest["_metadata"]["major_version"] == 2
    assert manifest["display_information"]["name"] == "IdOps Alerts"
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/entra"
    assert "url" not in command


def test_http_mode_points_every_request_at_slack_events() -> None:
    settings = Settings(
        _env_file=None,
        slack_mode="http",
        slack_public_url="https://bot.contoso.com/",
        slack_slash_command="/idops",
    )
    manifest = build_manifest(settings)
    url = "https://bot.contoso.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert manifest["features"]["slash_commands"][0] == {
        **manifest["features"]["slash_commands"][0],
        "command": "/idops",
        "url": url,
    }


def test_http_mode_without_a_public_url_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="SLACK_PUBLIC_URL"):
        build_manifest(Settings(_env_file=None, slack_mode="http"))


def test_scopes_cover_the_events_and_calls() -> None:
    manifest = build_manifest(Settings(_env_file=None))
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "member_left_channel", "channel_left"} <= events
    assert {"app_mentions:read", "im:history", "chat:write", "commands"} <= scopes
    assert {"users:read", "users:read.email", "usergroups:read", "channels:read"} <= scopes
    # Notices as a DM: users.lookupByEmail, conversations.open, chat.postMessage.
    assert {"users:read.email", "im:write", "chat:write"} <= scopes
    assert "files:write" in scopes  # charts shared as images (files.getUploadURLExternal)
    # The fake Slack's token has exactly the manifest's scopes.
    assert scopes == set(BOT_SCOPES)


def test_alertbot_manifest_slack_prints_yaml() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "bot", "manifest", "--slack"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    ).stdout
    assert yaml.safe_load(printed)["settings"]["socket_mode_enabled"] is True


def test_a_refused_bot_token_stops_serve_with_a_clear_message(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "ALERTBOT_SLACK_BOT_TOKEN": "xoxb-wrong",
        "ALERTBOT_SLACK_APP_TOKEN": "xapp-wrong",
        "ALERTBOT_SLACK_API_URL": "http://127.0.0.1:9/api/",
        "ALERTBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "ALERTBOT_SCHEDULER_ENABLED": "false",
        "ALERTBOT_PORT": str(free_port()),
        "ALERTBOT_DEMO_SIZE": "small",
        "ALERTBOT_DEMO_DAYS": "2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=240,
    )
    assert done.returncode == 2
    assert "Slack could not be reached at ALERTBOT_SLACK_API_URL" in done.stderr
    assert "Traceback" not in done.stderr
