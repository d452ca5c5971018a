"""The command router's fallback: free text that is no command is answered as a question.

`ChatAnswers(asker, ...).answer(caller, text)` is the Router's `fallback`, and
`answer_choice(caller, data)` answers the `ask.choose` buttons of the choices card.
Both return a Reply with a card view: the answer, the choices, or the closest
questions when nothing fits; a workspace that cannot answer gets a short sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot import messages
from bot.ask.answer import answer_card, choices_card
from bot.ask.service import Asker
from bot.ask.understand import Choices, HelpWanted, NotUnderstood, Resolved, Understanding
from bot.commands.base import Caller, Reply
from bot.errors import QueryError, WorkspaceError
from bot.views import help_view
from bot.views.model import CommandHelp
from bot.views.portal import LogAnalyticsTarget

log = logging.getLogger(__name__)


class ChatAnswers:
    """Answers questions in chat with cards."""

    def __init__(self, asker: Asker, *, log_analytics: LogAnalyticsTarget | None = None) -> None:
        self._asker = asker
        self._portal = log_analytics

    async def answer(self, caller: Caller, text: str) -> Reply:
        """The Router's fallback for text that is no command."""
        understanding = await self._asker.understand(text)
        return await self._reply(understanding, question=text.strip(), caller=caller)

    async def answer_choice(self, caller: Caller, data: Mapping[str, Any]) -> Reply:
        """An `ask.choose` button: run the chosen command with its parameters."""
        understanding = await self._asker.choose(data)
        if understanding is None:
            return Reply(text=messages.ask_stale_choice())
        return await self._reply(understanding, question=None, caller=caller)

    async def _reply(
        self, understanding: Understanding, *, question: str | None, caller: Caller
    ) -> Reply:
        if isinstance(understanding, HelpWanted):
            entries = question_help(self._asker)
            return Reply(view=help_view(entries, intro=messages.ask_help_intro()))
        if isinstance(understanding, Choices):
            card = choices_card(understanding.prompt, understanding.choices, question=question)
            return Reply(view=card)
        if isinstance(understanding, NotUnderstood):
            card = choices_card(
                messages.ask_not_understood(
                    understanding.text, close=bool(understanding.suggestions)
                ),
                understanding.suggestions,
                question=None,
                note=messages.ask_nothing_close(),
            )
            return Reply(view=card)
        return await self._run(understanding, question=question, caller=caller)

    async def _run(self, resolved: Resolved, *, question: str | None, caller: Caller) -> Reply:
        try:
            answer = await self._asker.run(resolved)
        except QueryError:
            log.exception(
                "question %s failed to run (conversation %s)",
                resolved.command.name,
                caller.conversation_id,
            )
            return Reply(text=messages.internal_error())
        except WorkspaceError as error:
            log.warning("question %s: workspace error: %s", resolved.command.name, error)
            return Reply(text=messages.workspace_unavailable())
        card = answer_card(answer, question=question, now=self._asker.now, portal=self._portal)
        return Reply(view=card)


def question_help(asker: Asker) -> tuple[CommandHelp, ...]:
    """The catalog's questions as help entries: an example, what it answers, more examples."""
    entries = []
    for command in asker.catalog.queries:
        first, *more = (example.replace("{", "<").replace("}", ">") for example in command.examples)
        entries.append(
            CommandHelp(
                name=command.name,
                usage=first[:128],
                description=command.description,
                examples=tuple(more[:2]),
            )
        )
    return tuple(entries)
