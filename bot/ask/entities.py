"""Names the workspace knows (jobs and their apps, groups, workflows, extensions, error codes).

The catalog says how to list each kind (a query returning `Id` and `Name`); an
EntityCache runs those queries over the catalog's `entity_window` and keeps the result
for `entity_cache`, so "Salesforce" means this tenant's Salesforce job without a single
id written in code. Finding the names in a question is pure (bot.ask.mentions).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.ask.catalog import Catalog
from bot.ask.model import EntityKind
from bot.errors import WorkspaceError
from bot.models import Clock
from bot.workspace.base import QueryResult, Workspace

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Named:
    """One thing with an id and a display name: a job (JobId, app name), a group, ..."""

    kind: EntityKind
    id: str
    name: str

    @property
    def template(self) -> str:
        """A job's template, the JobId before its first dot (`scim`, `Workday`)."""
        return self.id.split(".", 1)[0] if self.kind == "job" else ""


@dataclass(frozen=True, slots=True)
class EntityIndex:
    """What the workspace knows by name, by kind."""

    entries: Mapping[EntityKind, tuple[Named, ...]] = field(default_factory=dict)

    def of(self, kind: EntityKind) -> tuple[Named, ...]:
        return self.entries.get(kind, ())

    def job(self, job_id: str) -> Named | None:
        return next((job for job in self.of("job") if job.id == job_id), None)


def index_from_results(results: Mapping[EntityKind, QueryResult]) -> EntityIndex:
    """The index from each kind's query result (columns Id and Name), sorted by name."""
    entries: dict[EntityKind, tuple[Named, ...]] = {}
    for kind, result in results.items():
        rows = result.as_dicts()
        named = {
            (str(row.get("Id") or ""), str(row.get("Name") or "")): None
            for row in rows
            if row.get("Id") or row.get("Name")
        }
        ordered = sorted(named, key=lambda pair: (pair[1].lower(), pair[0]))
        entries[kind] = tuple(Named(kind, id_ or name, name or id_) for id_, name in ordered)
    return EntityIndex(entries)


async def load_index(workspace: Workspace, catalog: Catalog) -> EntityIndex:
    """Run every entity query; a kind whose query fails is left empty (and logged)."""
    kinds = list(catalog.entities)
    answers = await asyncio.gather(
        *(
            workspace.query(catalog.entities[kind].query, timespan=catalog.limits.entity_window)
            for kind in kinds
        ),
        return_exceptions=True,
    )
    results: dict[EntityKind, QueryResult] = {}
    for kind, answer in zip(kinds, answers, strict=True):
        if isinstance(answer, QueryResult):
            results[kind] = answer
        elif isinstance(answer, WorkspaceError):
            log.warning("could not list %s names: %s", kind, answer)
        else:
            raise answer
    return index_from_results(results)


class EntityCache:
    """The index, reloaded when older than the catalog's `entity_cache`; one load at a time."""

    def __init__(self, workspace: Workspace, catalog: Catalog, *, clock: Clock) -> None:
        self._workspace = workspace
        self._catalog = catalog
        self._clock = clock
        self._lock = asyncio.Lock()
        self._index: EntityIndex | None = None
        self._loaded_at: datetime | None = None

    async def get(self) -> EntityIndex:
        async with self._lock:
            now = self._clock()
            fresh = self._loaded_at is not None and (
                now - self._loaded_at < self._catalog.limits.entity_cache
            )
            if self._index is None or not fresh:
                self._index = await load_index(self._workspace, self._catalog)
                self._loaded_at = now
            return self._index
