"""The choices card: a short question with buttons, each running one complete chat question. Pure.

Used when a question fits more than one command, names something ambiguous (two jobs),
lacks a required value, or fits nothing (then the buttons are the closest commands).
Each button has the verb `ask.choose` and data `{command, parameters}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, Self

from bot.views.model import Button, CardView
from bot.views.text import clip

#: The verb of every choice button (the router answers it with bot.ask.chat's
#: answer_choice). Not an alert Verb: anyone may press it.
ASK_CHOOSE: Final = "ask.choose"
#: Teams shows about six buttons in a row before it folds them away.
MAX_BUTTONS: Final = 6
_TITLE_LIMIT: Final = 60


class ChoicesView(CardView):
    prompt: str
    #: What was asked, shown under the prompt (text from chat: never markdown).
    question: str | None = None
    buttons: tuple[Button, ...]
    note: str | None = None

    def shrink(self) -> Self | None:
        if len(self.buttons) > 1:
            return self.model_copy(update={"buttons": self.buttons[: len(self.buttons) // 2]})
        if self.question and len(self.question) > 200:
            return self.model_copy(update={"question": clip(self.question, 200)})
        return None


def choice_data(command: str, parameters: Mapping[str, object]) -> dict[str, Any]:
    """What an `ask.choose` button sends back."""
    return {"command": command, "parameters": dict(parameters)}


def choices_view(
    prompt: str,
    options: Sequence[tuple[str, str, Mapping[str, object]]],
    *,
    question: str | None = None,
    note: str | None = None,
) -> ChoicesView:
    """Buttons for (label, command, parameters) options, at most MAX_BUTTONS."""
    buttons = tuple(
        Button(
            verb=ASK_CHOOSE, label=clip(label, _TITLE_LIMIT), data=choice_data(command, parameters)
        )
        for label, command, parameters in options[:MAX_BUTTONS]
    )
    return ChoicesView(prompt=prompt, question=question or None, buttons=buttons, note=note)
