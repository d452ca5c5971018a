"""Asker: understands questions against the catalog and the workspace's names, and runs them.

Built once with the catalog, a workspace and the bot's clock; shared by the chat
fallback (bot.ask.chat) and `alertbot ask`. It owns the entity cache and the alias
table built from it (rebuilt only when the cache reloads).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.ask.answer import Answer, count_rows, run_question
from bot.ask.bind import bind_question
from bot.ask.catalog import Catalog
from bot.ask.entities import EntityCache, EntityIndex
from bot.ask.matcher import Matcher
from bot.ask.mentions import AliasTable
from bot.ask.understand import (
    MAX_QUESTION,
    HelpWanted,
    NotUnderstood,
    Resolved,
    Understanding,
    echo,
    from_choice,
    understand,
)
from bot.models import Clock
from bot.workspace.base import Workspace


class Asker:
    """Questions in, understandings and answers out."""

    def __init__(self, *, catalog: Catalog, workspace: Workspace, clock: Clock) -> None:
        self.catalog = catalog
        self.matcher = Matcher(catalog)
        self._workspace = workspace
        self._clock = clock
        self._entities = EntityCache(workspace, catalog, clock=clock)
        self._aliases: tuple[EntityIndex, AliasTable] | None = None

    @property
    def now(self) -> datetime:
        return self._clock()

    async def understand(self, text: str, *, previous: Resolved | None = None) -> Understanding:
        """Read on a worker thread: reading is pure, and the event loop keeps serving.
        `previous` is the conversation's last question, for follow-ups. Text too long to be
        a question is answered at once, without reading the workspace's names."""
        if len(text) > MAX_QUESTION:
            return NotUnderstood(echo(text), ())
        index, aliases = await self._names()
        return await asyncio.to_thread(
            understand, text, self.matcher, aliases, index, now=self.now, previous=previous
        )

    async def choose(self, data: Mapping[str, Any]) -> Understanding | None:
        """What an `ask.choose` button asks for; None when its data no longer fits."""
        command = self.catalog.find(str(data.get("command", "")))
        parameters = data.get("parameters", {})
        if command is not None and command.kind == "help":
            return HelpWanted(self.catalog.commands)
        if not isinstance(parameters, Mapping):
            return None
        limit = self.catalog.limits.max_window
        chosen = from_choice(command, parameters, now=self.now, limit=limit)
        if isinstance(chosen, Resolved):
            index, _ = await self._names()
            return Resolved(chosen.command, chosen.values, chosen.window, _labels(chosen, index))
        return chosen

    async def run(self, resolved: Resolved) -> Answer:
        """Bind and run; raises the workspace's errors (WorkspaceError) as they are."""
        bound = bind_question(
            resolved.command,
            resolved.values,
            resolved.window,
            max_rows=self.catalog.limits.max_rows,
        )
        result = await run_question(self._workspace, bound)
        total = await count_rows(self._workspace, bound, result)
        return Answer(bound=bound, result=result, total=total, labels=resolved.labels)

    async def _names(self) -> tuple[EntityIndex, AliasTable]:
        index = await self._entities.get()
        if self._aliases is None or self._aliases[0] is not index:
            table = AliasTable.build(index, self.catalog.vocabulary, self.matcher.lexicon.common)
            self._aliases = (index, table)
        return self._aliases


def _labels(resolved: Resolved, index: EntityIndex) -> dict[str, str]:
    """A JobId reads as its app's name."""
    labels: dict[str, str] = {}
    for name, spec in resolved.command.parameters.items():
        value = resolved.values.get(name)
        job = index.job(value) if spec.kind == "job" and isinstance(value, str) else None
        if job is not None:
            labels[name] = job.name
    return labels
