"""Teams ways to reach the person a notice is for (bot.notices.delivery.Reach):

- `TeamsExistingChat` ("teams"): the 1:1 chat the bot already has with them (a stored
  direct conversation whose user has their Entra object id).
- `TeamsNewChat` ("teams-create"): POST /v3/conversations with their object id and the
  tenant, at the service URL of any stored conversation; works when the app is installed
  for them. The new chat's reference is kept.
- `TeamsInstalledChat` ("teams-install"): the app installed for them with Microsoft Graph
  (bot.notices.graph), then its 1:1 chat; the reference is kept.

Each way updates the notice it delivered in place (events joined it: the Bot Connector's
update activity on the 1:1 chat's message, with the card as it is now); the stored chat
gives the service URL.

A 403 MessageWritesBlocked (the person blocked the bot) falls back to the next way and is
not retried; throttling and no answer may work later; a conversation that is gone is
pruned.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Final, Protocol

from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.connector import Connector, ConnectorError
from bot.channels.teams.conversations import message_activity
from bot.channels.teams.payloads import card_attachment
from bot.models import ChannelKind, Clock, ConversationRef
from bot.notices.delivery import Reached, Unreachable
from bot.notices.model import Notice
from bot.store.base import ConversationOperations
from bot.views.notice import NoticeView

log = logging.getLogger(__name__)

BLOCKED: Final = "MessageWritesBlocked"
#: Seconds one Bot Connector request may take.
REQUEST_LIMIT: Final = 10.0


class PersonalChatInstaller(Protocol):
    """Installs the Teams app for a person and gives the id of its 1:1 chat with them."""

    async def personal_chat(self, user_id: str) -> str: ...


@dataclass(frozen=True, slots=True)
class TeamsParts:
    """What every Teams way shares."""

    connector: Connector
    store: ConversationOperations
    renderer: CardRenderer
    clock: Clock


class _TeamsReach:
    name = "teams"

    def __init__(self, parts: TeamsParts) -> None:
        self._connector = parts.connector
        self._store = parts.store
        self._renderer = parts.renderer
        self._clock = parts.clock

    def _activity(self, view: NoticeView) -> Any:
        return message_activity(None, [card_attachment(self._renderer.render(view))])

    async def _post(self, ref: ConversationRef, view: NoticeView, via: str) -> Reached:
        try:
            message_id = await self._connector.post(ref, self._activity(view), limit=REQUEST_LIMIT)
        except ConnectorError as error:
            if error.verdict == "prune" and await self._store.delete_conversation(
                ref.conversation_id
            ):
                log.info("teams: the 1:1 chat %s is gone: pruned", ref.conversation_id)
            raise unreachable(error) from error
        return Reached(via, ref.conversation_id, message_id)

    async def update(self, notice: Notice, view: NoticeView) -> None:
        """The notice's message in its 1:1 chat replaced by `view`."""
        if not notice.conversation_id or not notice.message_id:
            raise Unreachable("no message of it is known (no id came back when it was sent)")
        ref = await self._store.get_conversation(notice.conversation_id)
        if ref is None:
            raise Unreachable(f"the 1:1 chat {notice.conversation_id} is no longer known")
        try:
            await self._connector.update(
                ref, notice.message_id, self._activity(view), limit=REQUEST_LIMIT
            )
        except ConnectorError as error:
            raise unreachable(error) from error

    async def _template(self) -> ConversationRef:
        """Any stored Teams conversation: its service URL, bot and tenant."""
        refs = [r for r in await self._store.list_conversations() if r.channel is ChannelKind.TEAMS]
        if not refs:
            raise Unreachable("no Teams conversation is known yet (no service URL)")
        return max(refs, key=lambda r: r.updated_at)

    async def _post_and_keep(
        self, template: ConversationRef, conversation_id: str, user_id: str, view: NoticeView
    ) -> Reached:
        """Post into a new 1:1 chat; its reference is kept once a message went through."""
        ref = personal_ref(template, conversation_id, user_id, now=self._clock())
        try:
            message_id = await self._connector.post(ref, self._activity(view), limit=REQUEST_LIMIT)
        except ConnectorError as error:
            raise unreachable(error) from error
        await self._store.upsert_conversation(ref)
        return Reached(self.name, ref.conversation_id, message_id)


class TeamsExistingChat(_TeamsReach):
    name = "teams"

    async def send(self, notice: Notice, view: NoticeView) -> Reached:
        ref = await find_personal_chat(self._store, notice.person.object_id)
        if ref is None:
            raise Unreachable("the bot has no 1:1 chat with them yet")
        return await self._post(ref, view, self.name)


class TeamsNewChat(_TeamsReach):
    name = "teams-create"

    async def send(self, notice: Notice, view: NoticeView) -> Reached:
        user_id = _object_id(notice)
        template = await self._template()
        try:
            created = await self._connector.create_personal(template, user_id, limit=REQUEST_LIMIT)
        except ConnectorError as error:
            raise unreachable(error) from error
        return await self._post_and_keep(template, created, user_id, view)


class TeamsInstalledChat(_TeamsReach):
    name = "teams-install"

    def __init__(self, parts: TeamsParts, *, installer: PersonalChatInstaller) -> None:
        super().__init__(parts)
        self._installer = installer

    async def send(self, notice: Notice, view: NoticeView) -> Reached:
        user_id = _object_id(notice)
        template = await self._template()
        chat_id = await self._installer.personal_chat(user_id)
        return await self._post_and_keep(template, chat_id, user_id, view)


def unreachable(error: ConnectorError) -> Unreachable:
    """What a Bot Connector failure means for reaching the person."""
    if error.code == BLOCKED:
        return Unreachable(f"they blocked the bot ({error.describe()})")
    later = error.verdict == "retry"
    return Unreachable(error.describe(), later=later, retry_after=error.retry_after)


async def find_personal_chat(
    store: ConversationOperations, object_id: str | None
) -> ConversationRef | None:
    """The stored 1:1 Teams chat with the person of that Entra object id, if any."""
    if not object_id:
        return None
    wanted = object_id.lower()
    for ref in await store.list_conversations():
        if ref.channel is not ChannelKind.TEAMS or ref.kind != "direct":
            continue
        user = ref.reference.get("user") or {}
        if str(user.get("aadObjectId") or "").lower() == wanted:
            return ref
    return None


def personal_ref(
    template: ConversationRef, conversation_id: str, user_id: str, *, now: Any
) -> ConversationRef:
    """A 1:1 conversation's reference, from another conversation's of the same bot."""
    reference = copy.deepcopy(template.reference)
    conversation = {"id": conversation_id, "conversationType": "personal", "isGroup": False}
    tenant = (reference.get("channelData") or {}).get("tenant")
    if tenant:
        conversation["tenantId"] = tenant.get("id")
        reference["channelData"] = {"tenant": tenant}
    reference["conversation"] = conversation
    reference["user"] = {"id": user_id, "aadObjectId": user_id}
    return ConversationRef(
        conversation_id=conversation_id,
        channel=ChannelKind.TEAMS,
        kind="direct",
        reference=reference,
        updated_at=now,
    )


def _object_id(notice: Notice) -> str:
    if not notice.person.object_id:
        raise Unreachable("no Entra object id for them (Teams needs one, not a UPN)")
    return notice.person.object_id
