"""What the fake Slack workspace holds: users, conversations, messages with their edits and
thread replies, files, and every Web API call made to it.

Shapes follow the Slack object reference (docs.slack.dev/reference/objects/user-object,
.../conversation-object, .../messaging "message" objects): ids `T…` team, `U…` user,
`C…` public channel, `G…`/`C…` private, `D…` direct message, `S…` user group, `F…` file;
a message `ts` is "seconds.micro" text, unique and increasing within a channel.
"""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

Clock = Callable[[], float]

#: The bot scopes the app manifest asks for (manifest/slack/manifest.yaml).
BOT_SCOPES: Final = (
    "app_mentions:read", "channels:history", "channels:read", "groups:history", "groups:read",
    "im:history", "im:read", "im:write",
    "chat:write", "files:write", "commands", "users:read", "users:read.email",
    "usergroups:read",
)  # fmt: skip


@dataclass
class SlackUser:
    id: str
    name: str
    real_name: str = ""
    email: str | None = None
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False
    tz: str = "Europe/Berlin"
    team_id: str = "T0TEAM0001"

    def to_json(self) -> dict[str, Any]:
        """A user object as users.info / users.lookupByEmail answer it."""
        profile: dict[str, Any] = {
            "real_name": self.real_name or self.name,
            "display_name": self.name,
            "team": self.team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name or self.name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": 3600,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": profile,
        }


@dataclass
class Edit:
    """One earlier version of a message, kept when chat.update or a response_url replaced it."""

    at: float
    text: str
    blocks: list[dict[str, Any]] | None


@dataclass
class SlackMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    reply_broadcast: bool = False
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    edits: list[Edit] = field(default_factory=list)
    deleted: bool = False
    via: str = "api"

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_json(self, *, team_id: str) -> dict[str, Any]:
        """The message object Slack puts in chat.postMessage / chat.update answers."""
        body: dict[str, Any] = {
            "type": "message",
            "text": self.text,
            "ts": self.ts,
            "team": team_id,
        }
        if self.bot_id is not None:
            body.update(bot_id=self.bot_id, app_id="A0APP00001")
        if self.user is not None:
            body["user"] = self.user
        if self.blocks is not None:
            body["blocks"] = self.blocks
        if self.thread_ts is not None:
            body["thread_ts"] = self.thread_ts
        if self.files:
            body["files"] = self.files
            body["upload"] = True
        if self.metadata is not None:
            body["metadata"] = self.metadata
        if self.edits:
            body["edited"] = {"user": self.user or "", "ts": f"{self.edits[-1].at:.6f}"}
        return body


@dataclass
class Ephemeral:
    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None = None


@dataclass
class SlackChannel:
    """A conversation. `is_member` False + posting → not_in_channel; `is_archived` →
    is_archived; `deleted` → channel_not_found (as after the channel is deleted)."""

    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    im_user: str | None = None
    is_member: bool = True
    is_archived: bool = False
    deleted: bool = False
    created: int = 1_700_000_000
    creator: str = "U0ADMIN001"
    members: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        """A conversation object as conversations.info answers it."""
        if self.is_im:
            return {
                "id": self.id,
                "created": self.created,
                "is_im": True,
                "is_org_shared": False,
                "user": self.im_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.is_member,
            "created": self.created,
            "creator": self.creator,
            "unlinked": 0,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": len(self.members),
        }


@dataclass
class RecordedCall:
    """One HTTP request to the fake: the Web API method (or "upload", "response_url",
    "apps.connections.open"), its merged arguments, when, and what was answered."""

    method: str
    args: dict[str, Any]
    at: float
    token: str | None
    status: int = 200
    error: str | None = None


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str = ""
    alt_txt: str | None = None
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "created": 1_700_000_000,
            "name": self.filename,
            "title": self.title or self.filename,
            "mimetype": _mimetype(self.filename),
            "filetype": self.filename.rsplit(".", 1)[-1] if "." in self.filename else "binary",
            "size": len(self.content or b""),
            "user": "U0BOT00001",
            "is_public": bool(self.channels),
            "channels": list(self.channels),
            "url_private": f"https://files.slack.com/files-pri/T0TEAM0001-{self.id}/{self.filename}",
            "permalink": f"https://acme.slack.com/files/U0BOT00001/{self.id}/{self.filename}",
            **({"alt_txt": self.alt_txt} if self.alt_txt else {}),
        }


def _mimetype(filename: str) -> str:
    kinds = {"png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml", "txt": "text/plain"}
    return kinds.get(filename.rsplit(".", 1)[-1].lower(), "application/octet-stream")


@dataclass
class SlackState:
    """The workspace. Tests read and change it directly between calls (e.g. archive a
    channel, remove the bot, revoke the token) and the next calls answer accordingly."""

    team_id: str = "T0TEAM0001"
    team_name: str = "Acme"
    team_domain: str = "acme"
    app_id: str = "A0APP00001"
    bot_user_id: str = "U0BOT00001"
    bot_id: str = "B0BOT00001"
    bot_token: str = "xoxb-0000000001-0000000002-fakeslacktoken"
    app_token: str = "xapp-1-A0APP00001-0000000003-fakeslackapptoken"
    #: "active"; "revoked" → token_revoked; "inactive" → account_inactive (bot/workspace gone).
    token_status: str = "active"
    #: With the chat:write.public scope an app may post in public channels it is not in.
    chat_write_public: bool = False
    #: The bot token's scopes (those of manifest/slack/manifest.yaml); the methods in
    #: methods.SCOPES answer `missing_scope` without theirs.
    scopes: set[str] = field(default_factory=lambda: set(BOT_SCOPES))
    clock: Clock = time.time
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: dict[str, SlackChannel] = field(default_factory=dict)
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    messages: dict[str, list[SlackMessage]] = field(default_factory=dict)
    ephemerals: list[Ephemeral] = field(default_factory=list)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)
    calls: list[RecordedCall] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _last_ts: float = 0.0

    # --- set-up helpers ---------------------------------------------------------------

    def add_user(self, user_id: str, name: str, **options: Any) -> SlackUser:
        user = SlackUser(user_id, name, team_id=self.team_id, **options)
        self.users[user_id] = user
        return user

    def add_channel(self, channel_id: str, name: str, **options: Any) -> SlackChannel:
        channel = SlackChannel(channel_id, name, **options)
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def im_with(self, user_id: str) -> SlackChannel:
        """The bot's direct-message conversation with `user_id`, opened on first use."""
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        channel_id = f"D{next(self._ids):09d}"
        return self.add_channel(channel_id, channel_id, is_im=True, im_user=user_id)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def next_ts(self) -> str:
        """A message timestamp: the clock, pushed forward by a microsecond when two calls
        land in the same microsecond (Slack's ts are unique per channel)."""
        now = max(self.clock(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    # --- assertion helpers ------------------------------------------------------------

    def messages_in(self, channel: str, *, include_replies: bool = False) -> list[SlackMessage]:
        """Top-level messages of a channel (and thread replies when asked), oldest first."""
        return [
            m
            for m in self.messages.get(channel, [])
            if not m.deleted and (include_replies or not m.is_reply)
        ]

    def replies_to(self, channel: str, thread_ts: str) -> list[SlackMessage]:
        return [
            m
            for m in self.messages.get(channel, [])
            if not m.deleted and m.is_reply and m.thread_ts == thread_ts
        ]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        for message in self.messages.get(channel, []):
            if message.ts == ts and not message.deleted:
                return message
        return None

    def duplicates(self, channel: str, *, key: Callable[[SlackMessage], Any] | None = None) -> int:
        """How many messages of `channel` repeat an earlier one (same text and blocks, or
        the same `key`), thread replies included: 0 when each was shown once."""
        pick = key or (lambda m: (m.thread_ts if m.is_reply else None, m.text, repr(m.blocks)))
        counts = Counter(pick(m) for m in self.messages_in(channel, include_replies=True))
        return sum(n - 1 for n in counts.values())

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method == method]


def sample_workspace(clock: Clock = time.time) -> SlackState:
    """A small workspace for tests: an admin and a reader (with emails), the bot in
    #entra-alerts, a channel without the bot, an archived one, and an admins user group."""
    state = SlackState(clock=clock)
    state.add_user(state.bot_user_id, "alertbot", is_bot=True)
    state.add_user(
        "U0ADMIN001", "ada", real_name="Ada Admin", email="ada@contoso.com", is_admin=True
    )
    state.add_user("U0READ0001", "rey", real_name="Rey Reader", email="rey@contoso.com")
    state.add_user("U0GONE0001", "gus", real_name="Gus Gone", email="gus@contoso.com", deleted=True)
    members = {state.bot_user_id, "U0ADMIN001", "U0READ0001"}
    state.add_channel("C0ALERTS01", "entra-alerts", members=set(members))
    state.add_channel("C0NOBOT001", "random", is_member=False, members={"U0READ0001"})
    state.add_channel("C0ARCHIV01", "old-alerts", is_archived=True, members=set(members))
    state.add_channel("G0PRIVAT01", "secops", is_private=True, members=set(members))
    state.usergroups["S0ADMINS01"] = ["U0ADMIN001"]
    return state
