"""Reload the rules without a restart: on SIGHUP, and when a rule file changes.

Changes are found by polling the files' (path, mtime, size) every few seconds, not with
an inotify library such as watchfiles: stat-ing a handful of small files costs nothing,
needs no dependency, and sees what inotify misses: files on network mounts, and
Kubernetes ConfigMap updates, which swap a symlinked directory rather than write files.

A valid rule set replaces the running one whole; an invalid one is logged, one
`file:line:col: rule-id: message` line per problem, and the old set keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.alerts.rule_model import Rule
from bot.alerts.rules import rule_files
from bot.errors import ConfigError

log = logging.getLogger(__name__)

#: (path, mtime in ns, size) of every rule file and of each configured path.
Snapshot = frozenset[tuple[str, int, int]]
#: Read and validate the rules; ConfigError lists the problems.
LoadRules = Callable[[], list[Rule]]
#: Put a valid rule set in force.
ApplyRules = Callable[[list[Rule]], Awaitable[None]]


class RuleBook:
    """The rules in force, replaced whole so a reader never sees half a reload."""

    def __init__(self, rules: Sequence[Rule], *, loaded_at: datetime) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.loaded_at = loaded_at
        #: Read-only rules of alerts raised elsewhere (bot.alerts.external): shown, never
        #: scheduled, and kept across reloads of the rule files.
        self._external: dict[str, Rule] = {}

    def replace(self, rules: Sequence[Rule], *, loaded_at: datetime) -> None:
        self.rules, self.loaded_at = tuple(rules), loaded_at

    def add_external(self, rule: Rule) -> None:
        self._external[rule.id] = rule

    def get(self, rule_id: str) -> Rule | None:
        found = next((rule for rule in self.rules if rule.id == rule_id), None)
        return found or self._external.get(rule_id)


def snapshot(paths: Sequence[Path]) -> Snapshot:
    """What the rule files look like now; any edit, addition or removal changes it."""
    files, _ = rule_files(paths)
    return frozenset(_stat(path) for path in (*paths, *files))


def _stat(path: Path) -> tuple[str, int, int]:
    try:
        status = path.stat()
    except OSError:
        return (str(path), -1, -1)
    if path.is_dir():  # its mtime moves with any file (an editor's swap file): not ours to see
        return (str(path), 0, 0)
    return (str(path), status.st_mtime_ns, status.st_size)


class RuleReloader:
    """Reloads on SIGHUP and on file changes (polled every `poll_interval` s; 0: never)."""

    def __init__(
        self,
        *,
        paths: Sequence[Path],
        load: LoadRules,
        apply: ApplyRules,
        poll_interval: float,
    ) -> None:
        self._paths = tuple(paths)
        self._load = load
        self._apply = apply
        self._poll_interval = poll_interval
        self._lock = asyncio.Lock()
        self._seen: Snapshot = frozenset()
        self._tasks: set[asyncio.Task[None]] = set()

    async def reload(self, reason: str) -> bool:
        """Load the rules; apply them if valid. True if they were applied."""
        async with self._lock:
            # Before reading: an edit made while we read is seen by the next poll.
            self._seen = await asyncio.to_thread(snapshot, self._paths)
            try:
                rules = await asyncio.to_thread(self._load)
            except ConfigError as invalid:
                lines = "\n".join(f"  {problem}" for problem in invalid.problems)
                log.error("rules not reloaded (%s); the running rules stay:\n%s", reason, lines)
                return False
            await self._apply(rules)
            log.info("rules reloaded (%s): %d rules", reason, len(rules))
            return True

    async def start(self) -> None:
        self._seen = await asyncio.to_thread(snapshot, self._paths)
        if self._poll_interval > 0:
            self._spawn(self._watch())
        if hasattr(signal, "SIGHUP"):
            try:
                asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._on_sighup)
            except RuntimeError:  # not the main thread (an embedded or test server)
                log.info("rules: no SIGHUP reload outside the main thread")

    async def stop(self) -> None:
        if hasattr(signal, "SIGHUP"):
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_sighup(self) -> None:
        self._spawn(self._guarded("SIGHUP"))

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            if await asyncio.to_thread(snapshot, self._paths) != self._seen:
                await self._guarded("rule files changed")

    async def _guarded(self, reason: str) -> None:
        try:
            await self.reload(reason)
        except Exception:  # the reload edge's one catch-all: keep watching
            log.exception("rules not reloaded (%s): unexpected error", reason)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
