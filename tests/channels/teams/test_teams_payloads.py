"""A card sent without msrest walking it (payloads.outgoing_card_attachment) is the same JSON
on the wire as the plain attachment, and the connector's addressed copy leaves the
original activity as it was."""

from __future__ import annotations

import json
from typing import Any

from botbuilder.schema import ConversationAccount, ConversationReference
from msrest.serialization import Serializer

from bot.channels.teams.connector import _addressed
from bot.channels.teams.conversations import message_activity
from bot.channels.teams.payloads import card_attachment, outgoing_card_attachment

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


def test_an_outgoing_card_is_the_same_json_as_a_plain_one() -> None:
    plain = message_activity("may repeat", [card_attachment(CARD)])
    outgoing = message_activity("may repeat", [outgoing_card_attachment(CARD)])
    assert body(outgoing) == body(plain)
    assert json.loads(body(outgoing))["attachments"][0]["content"] == CARD


def test_the_addressed_copy_leaves_the_activity_as_it_was() -> None:
    activity = message_activity(None, [outgoing_card_attachment(CARD)])
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
