"""Slack conversations in our terms: ids (workspace + channel), kinds, references, callers.

A Slack channel or DM is kept as `slack:<team id>:<channel id>`, so the same channel id in
two workspaces stays two conversations; the reference holds the two ids and the kind.
Message ids are Slack's `ts` of the message in that channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from bot.commands.base import Caller, Principal
from bot.models import ChannelKind, ConversationKind, ConversationRef

PREFIX: Final = "slack:"


def conversation_id(team_id: str, channel_id: str) -> str:
    return f"{PREFIX}{team_id}:{channel_id}"


def split(conversation: str) -> tuple[str, str]:
    """(team id, channel id) of a stored conversation id."""
    team, _, channel = conversation.removeprefix(PREFIX).partition(":")
    return team, channel


def kind(channel_id: str, channel_type: str | None = None) -> ConversationKind:
    """Slack's channel types (im, mpim, channel, group) or id prefixes in neutral words."""
    if channel_type == "im" or (channel_type is None and channel_id.startswith("D")):
        return "direct"
    if channel_type == "mpim":
        return "group"
    return "channel"


def conversation_ref(
    team_id: str, channel_id: str, *, channel_type: str | None, now: datetime
) -> ConversationRef:
    return ConversationRef(
        conversation_id=conversation_id(team_id, channel_id),
        channel=ChannelKind.SLACK,
        kind=kind(channel_id, channel_type),
        reference={"team_id": team_id, "channel_id": channel_id},
        updated_at=now,
    )


def channel_of(ref: ConversationRef) -> str:
    found = ref.reference.get("channel_id")
    return str(found) if found else split(ref.conversation_id)[1]


def caller(
    *,
    team_id: str | None,
    user_id: str,
    channel_id: str,
    channel_type: str | None = None,
    name: str | None = None,
    entra_object_id: str | None = None,
    email: str | None = None,
) -> Caller:
    principal = Principal(
        channel=ChannelKind.SLACK,
        user_id=user_id,
        org_id=team_id,
        name=name,
        entra_object_id=entra_object_id,
        email=email,
    )
    return Caller(
        principal=principal,
        conversation_id=conversation_id(team_id or "", channel_id),
        conversation_kind=kind(channel_id, channel_type),
    )


def team_of(body: dict[str, Any]) -> str | None:
    """The workspace a request came from: events, interactions and slash commands differ."""
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if not team:
        team = (
            (body.get("user") or {}).get("team_id") if isinstance(body.get("user"), dict) else None
        )
    return str(team) if team else None
