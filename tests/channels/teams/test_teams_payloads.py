"""The connector's addressed copy of an activity (a post to each conversation) shares the
card and leaves the original activity as it was. (That the card goes on the wire as
msrest would send it: test_teams_transport.py.)"""

from __future__ import annotations

import json
from typing import Any

from botbuilder.schema import ConversationAccount, ConversationReference
from msrest.serialization import Serializer

from bot.channels.teams.connector import _addressed
from bot.channels.teams.conversations import message_activity
from bot.channels.teams.payloads import card_attachment

CARD: dict[str, Any] = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "Provisioning failures", "wrap": True},
        {
            "type": "FactSet",
            "facts": [{"title": "Job", "value": "scim.é"}, {"title": "n", "value": "25"}],
        },
    ],
    "actions": [{"type": "Action.Execute", "verb": "ack", "data": {"alertId": 42, "x": None}}],
    "msteams": {"width": "Full"},
}


def body(activity: Any) -> str:
    """The request body msrest builds for an activity (as the Bot Connector client does)."""
    from botbuilder.schema import _models_py3 as models

    classes = {k: v for k, v in vars(models).items() if isinstance(v, type)}
    return json.dumps(Serializer(classes).body(activity, "Activity"), sort_keys=True)


def test_the_addressed_copy_leaves_the_activity_as_it_was() -> None:
    activity = message_activity(None, [card_attachment(CARD)])
    before = body(activity)
    reference = ConversationReference(
        conversation=ConversationAccount(id="19:ops@thread.tacv2"),
        service_url="https://smba.example/",
        channel_id="msteams",
    )
    first = _addressed(activity, reference)
    first.conversation.id = "19:ops@thread.tacv2;messageid=1"
    second = _addressed(activity, reference)
    assert second.conversation.id == "19:ops@thread.tacv2"  # each copy has its own account
    assert reference.conversation.id == "19:ops@thread.tacv2"
    assert body(activity) == before
    assert first.attachments[0] is activity.attachments[0]  # shared, never changed
