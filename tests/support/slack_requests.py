"""Requests as Slack sends them to an app: Events API callbacks, interactivity payloads and
slash commands, signed as Slack signs them.

Signing (docs.slack.dev/authentication/verifying-requests-from-slack): the base string is
`v0:{X-Slack-Request-Timestamp}:{raw body}`; `X-Slack-Signature` is `v0=` + the hex
HMAC-SHA256 of it under the app's signing secret. Apps refuse timestamps more than five
minutes off.

Bodies (docs.slack.dev/apis/events-api, .../reference/events/<type>,
.../reference/interaction-payloads/block_actions-payload, .../view-interactions-payload,
.../interactivity/implementing-slash-commands):
- Events: JSON `{"token", "team_id", "api_app_id", "event", "type": "event_callback",
  "event_id", "event_time", "authorizations", ...}`, or `url_verification` with a
  `challenge`; retries carry `X-Slack-Retry-Num` and `X-Slack-Retry-Reason`.
- Interactivity: `application/x-www-form-urlencoded` with one field `payload=<JSON>`.
- Slash commands: `application/x-www-form-urlencoded` fields (`command`, `text`,
  `user_id`, `channel_id`, `response_url`, `trigger_id`, ...).

The payload builders return plain dicts, so the same payloads can go through Socket Mode
(`FakeSlack.socket_mode.push("events_api", payload)`; a slash command's Socket Mode payload
is the dict of its form fields).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

#: The reasons Slack documents for an event retry.
RETRY_REASONS = (
    "http_timeout",
    "too_many_redirects",
    "connection_failed",
    "ssl_error",
    "http_error",
    "unknown_error",
)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedRequest:
    body: bytes
    headers: dict[str, str]

    async def post(self, session: aiohttp.ClientSession, url: str) -> aiohttp.ClientResponse:
        """POST it; the caller reads (and thereby releases) the response."""
        return await session.post(url, data=self.body, headers=self.headers)

    def with_headers(self, **headers: str) -> SignedRequest:
        """The same request with headers replaced (e.g. a forged signature)."""
        return SignedRequest(self.body, {**self.headers, **headers})


@dataclass
class SlackRequests:
    """Builds requests for one workspace and app. `clock` gives the signing time (seconds)."""

    signing_secret: str
    team_id: str = "T0TEAM0001"
    team_domain: str = "acme"
    api_app_id: str = "A0APP00001"
    bot_user_id: str = "U0BOT00001"
    verification_token: str = "legacy-verification-token"
    clock: Callable[[], float] = time.time
    _counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- signing ---------------------------------------------------------------------

    def sign(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> SignedRequest:
        stamp = int(self.clock()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature(self.signing_secret, stamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        return SignedRequest(body, headers)

    def signed_json(self, payload: Mapping[str, Any], **options: Any) -> SignedRequest:
        return self.sign(json.dumps(payload).encode(), "application/json", **options)

    def signed_form(self, fields: Mapping[str, str], **options: Any) -> SignedRequest:
        return self.sign(urlencode(fields).encode(), "application/x-www-form-urlencoded", **options)

    def signed_interaction(self, payload: Mapping[str, Any], **options: Any) -> SignedRequest:
        return self.signed_form({"payload": json.dumps(payload)}, **options)

    # --- Events API ----------------------------------------------------------------------

    def url_verification(
        self, challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    ) -> dict[str, Any]:
        return {
            "token": self.verification_token,
            "challenge": challenge,
            "type": "url_verification",
        }

    def event_callback(
        self, event: Mapping[str, Any], *, event_id: str | None = None
    ) -> dict[str, Any]:
        """The outer event wrapper; `event_id` is what Slack keeps across retries."""
        now = int(self.clock())
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "context_team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{self._next():010d}",
            "event_time": now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-eyJldCI6ImFwcF9tZW50aW9uIn0-{self._next()}",
        }

    def app_mention(
        self,
        user: str,
        channel: str,
        text: str,
        *,
        ts: str | None = None,
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """`text` as typed after the mention; the event's text starts with `<@bot>`."""
        stamp = ts or self._ts()
        full = f"<@{self.bot_user_id}> {text}".strip()
        event = {
            "type": "app_mention",
            "user": user,
            "text": full,
            "ts": stamp,
            "client_msg_id": f"{self._next():08d}-0000-4000-8000-000000000000",
            "team": self.team_id,
            "channel": channel,
            "event_ts": stamp,
            "blocks": [_rich_text(self.bot_user_id, text)],
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return event

    def message_im(
        self, user: str, channel: str, text: str, *, ts: str | None = None
    ) -> dict[str, Any]:
        stamp = ts or self._ts()
        return {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": stamp,
            "event_ts": stamp,
            "channel_type": "im",
            "team": self.team_id,
            "client_msg_id": f"{self._next():08d}-0000-4000-8000-000000000000",
        }

    def member_left_channel(
        self, user: str, channel: str, *, private: bool = False
    ) -> dict[str, Any]:
        return {
            "type": "member_left_channel",
            "user": user,
            "channel": channel,
            "channel_type": "G" if private else "C",
            "team": self.team_id,
            "event_ts": self._ts(),
        }

    def channel_left(self, channel: str, actor_id: str) -> dict[str, Any]:
        """Sent to the bot when it is removed from a channel (by `actor_id`)."""
        return {
            "type": "channel_left",
            "channel": channel,
            "actor_id": actor_id,
            "event_ts": self._ts(),
        }

    def app_uninstalled(self) -> dict[str, Any]:
        return {"type": "app_uninstalled", "event_ts": self._ts()}

    def tokens_revoked(
        self, *, bot: tuple[str, ...] = (), oauth: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        return {
            "type": "tokens_revoked",
            "tokens": {"oauth": list(oauth), "bot": list(bot)},
            "event_ts": self._ts(),
        }

    # --- interactivity -------------------------------------------------------------------

    def block_actions(
        self,
        *,
        user: str,
        channel: str,
        message: Mapping[str, Any],
        action: Mapping[str, Any],
        response_url: str,
        user_name: str = "someone",
        channel_name: str = "alerts",
    ) -> dict[str, Any]:
        """A click on `action` (see `button` / `select`) in `message` (a message object as
        chat.postMessage answered it, e.g. `SlackMessage.to_json(...)`)."""
        message_ts = str(message["ts"])
        return {
            "type": "block_actions",
            "user": {"id": user, "username": user_name, "name": user_name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": False,
            },
            "trigger_id": self.trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": channel_name},
            "message": dict(message),
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [{**action, "action_ts": self._ts()}],
        }

    def view_submission(
        self,
        *,
        user: str,
        callback_id: str,
        values: Mapping[str, Mapping[str, Any]],
        private_metadata: str = "",
        user_name: str = "someone",
    ) -> dict[str, Any]:
        """A modal submitted; `values` is view.state.values ({block_id: {action_id: value}})."""
        return {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": {"id": user, "username": user_name, "name": user_name, "team_id": self.team_id},
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "trigger_id": self.trigger_id(),
            "view": {
                "id": f"V{self._next():010d}",
                "team_id": self.team_id,
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": {k: dict(v) for k, v in values.items()}},
                "hash": f"{int(self.clock())}.abcdef",
                "title": {"type": "plain_text", "text": "Alert bot"},
                "blocks": [],
                "app_id": self.api_app_id,
                "bot_id": "B0BOT00001",
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }

    def slash_command(
        self,
        *,
        command: str,
        text: str,
        user: str,
        channel: str,
        response_url: str,
        user_name: str = "someone",
        channel_name: str = "alerts",
    ) -> dict[str, str]:
        return {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": channel_name,
            "user_id": user,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.trigger_id(),
        }

    def trigger_id(self) -> str:
        digest = hashlib.sha256(str(self._next()).encode()).hexdigest()[:32]
        return f"{self._next()}.{self.team_id[1:]}.{digest}"

    def _next(self) -> int:
        return next(self._counter)

    def _ts(self) -> str:
        return f"{self.clock():.6f}"


def button(action_id: str, value: str, text: str, *, block_id: str = "actions") -> dict[str, Any]:
    """The `actions[]` entry of a button click."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
    }


def select(action_id: str, value: str, text: str, *, block_id: str = "actions") -> dict[str, Any]:
    """The `actions[]` entry of a static_select choice."""
    return {
        "type": "static_select",
        "action_id": action_id,
        "block_id": block_id,
        "selected_option": {
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "value": value,
        },
    }


def _rich_text(bot_user_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "rich_text",
        "block_id": "mention",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "user", "user_id": bot_user_id},
                    {"type": "text", "text": f" {text}"},
                ],
            }
        ],
    }
