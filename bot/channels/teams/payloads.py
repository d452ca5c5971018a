"""What the bot sends Teams: card attachments and invoke answers.

botbuilder 4.17.1 under CloudAdapter fails (HTTP 500) on an invoke answer whose body is a
dict, so answers are msrest models: AdaptiveCardInvokeResponse for a card, and a small
model of our own for text (its `value` is a string, which AdaptiveCardInvokeResponse
cannot serialize). The edge serializes them with `serializer_helper`.
"""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any, Final

from botbuilder.core import InvokeResponse
from botbuilder.schema import AdaptiveCardInvokeResponse, Attachment
from msrest.serialization import Model

from bot.channels.teams.cards import Card

ADAPTIVE_CARD: Final = "application/vnd.microsoft.card.adaptive"
MESSAGE: Final = "application/vnd.microsoft.activity.message"
ERROR: Final = "application/vnd.microsoft.error"


def card_attachment(card: Card) -> Any:
    return _CardAttachment(content_type=ADAPTIVE_CARD, content=card)


class _CardAttachment(Attachment):  # type: ignore[misc]
    """A card attachment. The card is not changed once rendered, so a deep copy of the
    attachment shares it: botbuilder deep-copies every activity a turn sends, which was
    up to a tenth of a command's CPU for a large card."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _CardAttachment:
        return copy.copy(self)


class _TextInvokeResponse(Model):
    """`{"statusCode", "type", "value": "<text>"}`: a short message instead of a card."""

    _attribute_map = {  # noqa: RUF012 (msrest reads it as a class attribute)
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "str"},
    }

    def __init__(self, *, status_code: int, type: str, value: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.status_code = status_code
        self.type = type
        self.value = value


def card_answer(card: Card) -> Any:
    """Answer an Action.Execute with the card that replaces the one pressed."""
    body = AdaptiveCardInvokeResponse(status_code=200, type=ADAPTIVE_CARD, value=card)
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def text_answer(text: str) -> Any:
    """Answer an Action.Execute with a short message to the person who pressed."""
    body = _TextInvokeResponse(status_code=200, type=MESSAGE, value=text)
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def error_answer(code: str, message: str) -> Any:
    """A malformed Action.Execute: HTTP 200 with statusCode 400, as Universal Actions expect."""
    body = AdaptiveCardInvokeResponse(
        status_code=400, type=ERROR, value={"code": code, "message": message}
    )
    return InvokeResponse(status=int(HTTPStatus.OK), body=body)


def not_implemented() -> Any:
    """An invoke we do not handle (message extensions, sign-in, ...): an empty 200, so
    Teams shows nothing and no server error is counted (botbuilder's default is 501)."""
    return InvokeResponse(status=int(HTTPStatus.OK))
