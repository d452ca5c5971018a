"""Teams conversations in our terms: ids, kinds, tenants, callers and stored references.

A Teams channel post starts a thread whose conversation id is the channel's with
`;messageid=<root message id>` appended; we keep and subscribe the channel itself (a
team's General channel has the team's id). A `ConversationRef` stores
`TurnContext.get_conversation_reference` as JSON (conversation id without the thread
suffix), plus `channelData` with the tenant, team and channel, which a new channel post
and the clean-up after the bot leaves a team need.

Activities are botbuilder objects (untyped); nothing else leaves this module untyped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ConversationReference

from bot.commands.base import Caller, Principal
from bot.models import ChannelKind, ConversationKind, ConversationRef

THREAD_MARK: Final = ";messageid="
#: Teams' conversation types in neutral words.
_KINDS: Final[dict[str, ConversationKind]] = {
    "personal": "direct",
    "groupChat": "group",
    "channel": "channel",
}
_INSTALL_REMOVED: Final = ("remove", "remove-upgrade")


def base_conversation_id(conversation_id: str) -> str:
    """The conversation a thread is in: `19:x@thread.tacv2;messageid=1` -> `19:x@thread.tacv2`."""
    return conversation_id.split(THREAD_MARK, 1)[0]


def thread_id(conversation_id: str, message_id: str) -> str:
    """The thread of a channel post: where replies to it go and where it is edited."""
    return f"{base_conversation_id(conversation_id)}{THREAD_MARK}{message_id}"


def conversation_kind(activity: Any) -> ConversationKind:
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    return _KINDS.get(kind or "", "direct")


def channel_data(activity: Any) -> dict[str, Any]:
    data = activity.channel_data
    return data if isinstance(data, dict) else {}


def tenant_id(activity: Any) -> str | None:
    """The caller's Entra tenant: channelData.tenant.id, else conversation.tenantId."""
    tenant = _id_of(channel_data(activity).get("tenant"))
    if tenant:
        return tenant
    conversation = activity.conversation
    if conversation is None:
        return None
    # botbuilder maps `tenantID`; Teams sends `tenantId`, which lands in the extras.
    extras = getattr(conversation, "additional_properties", None) or {}
    found = conversation.tenant_id or extras.get("tenantId")
    return found if isinstance(found, str) and found else None


def team_id(activity: Any) -> str | None:
    return _id_of(channel_data(activity).get("team"))


def principal(activity: Any) -> Principal:
    """Who sent `activity`: their Entra object id (aadObjectId, else the Teams id) and tenant."""
    sender = activity.from_property
    entra_id = (sender.aad_object_id or None) if sender else None
    user_id = (entra_id or sender.id) if sender else ""
    return Principal(
        channel=ChannelKind.TEAMS,
        user_id=user_id or "",
        org_id=tenant_id(activity),
        name=sender.name if sender else None,
        entra_object_id=entra_id,
    )


def caller(activity: Any) -> Caller:
    """Who sent `activity`, and from which conversation (thread suffix removed)."""
    return Caller(
        principal=principal(activity),
        conversation_id=base_conversation_id(activity.conversation.id),
        conversation_kind=conversation_kind(activity),
    )


def conversation_ref(activity: Any, *, now: datetime) -> ConversationRef:
    """What to keep to post into the activity's conversation later."""
    reference: dict[str, Any] = TurnContext.get_conversation_reference(activity).serialize()
    conversation_id = base_conversation_id(activity.conversation.id)
    reference["conversation"]["id"] = conversation_id
    reference.pop("activityId", None)
    reference["channelData"] = _kept_channel_data(activity, conversation_id)
    return ConversationRef(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        kind=conversation_kind(activity),
        reference=reference,
        updated_at=now,
    )


def _kept_channel_data(activity: Any, conversation_id: str) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    tenant, team = tenant_id(activity), team_id(activity)
    if tenant:
        kept["tenant"] = {"id": tenant}
    if team:
        kept["team"] = {"id": team}
    if conversation_kind(activity) == "channel":
        kept["channel"] = {"id": conversation_id}
    return kept


def stored_reference(ref: ConversationRef) -> Any:
    """The botbuilder ConversationReference of a stored conversation."""
    return ConversationReference().deserialize(ref.reference)


def stored_tenant(ref: ConversationRef) -> str | None:
    return _id_of(ref.reference.get("channelData", {}).get("tenant"))


def stored_team(ref: ConversationRef) -> str | None:
    return _id_of(ref.reference.get("channelData", {}).get("team"))


def bot_removed(activity: Any) -> bool:
    """The bot left this conversation: removed as a member, uninstalled, or the team deleted."""
    if activity.type == "installationUpdate":
        return activity.action in _INSTALL_REMOVED
    if channel_data(activity).get("eventType") == "teamDeleted":
        return True
    bot = activity.recipient.id if activity.recipient else None
    return any(member.id == bot for member in activity.members_removed or ())


def deleted_channel(activity: Any) -> str | None:
    """The channel a `channelDeleted` update is about."""
    data = channel_data(activity)
    if data.get("eventType") != "channelDeleted":
        return None
    return _id_of(data.get("channel"))


def message_activity(text: str | None, attachments: list[Any]) -> Any:
    """A message from the bot (text as markdown, the default in Teams)."""
    return Activity(type="message", text=text, attachments=attachments or None)


def _id_of(value: object) -> str | None:
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None
