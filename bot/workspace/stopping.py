"""Stopping a query that runs on a worker thread, whatever phase it is in.

A query spends its time in Python (lexing and translating KQL with ANTLR) or in
DuckDB (running and fetching). DuckDB stops on `interrupt()`; Python code on a
worker thread stops only if an exception is raised in that thread, which CPython
offers as `PyThreadState_SetAsyncExc`. A `Stopper` does whichever fits the phase
the query is in, and is checked between phases, so a timeout that fires while the
query is still translating also keeps it from starting in DuckDB.

The asynchronous exception is only ever raised while the query's own code runs on
that thread (the phase is tracked under a lock, and a pending one is cleared when
the query ends), so it can never land in another task the thread picks up later.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import Literal, TypeVar

import duckdb

from bot.errors import QueryTimeoutError

T = TypeVar("T")
Phase = Literal["waiting", "python", "engine", "done"]


class QueryStopped(BaseException):
    """Raised inside a worker thread to end a query's Python phase (not an Exception, so
    no `except Exception` in a library swallows it)."""


class Stopper:
    """The stop switch of one query, shared by its worker and the caller that waits."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, message: str) -> None:
        self._cursor = cursor
        self._message = message
        self._lock = threading.Lock()
        self._phase: Phase = "waiting"
        self._thread: int | None = None
        self._stopped = False

    def run(self, work: Callable[[Stopper], T]) -> T:
        """Run `work` on this thread; QueryTimeoutError if it was stopped."""
        with self._lock:
            if self._stopped:
                raise QueryTimeoutError(self._message)
            self._thread = threading.get_ident()
            self._phase = "python"
        try:
            try:
                return work(self)
            finally:
                self._finish()
        except QueryStopped:
            raise QueryTimeoutError(self._message) from None
        except duckdb.InterruptException:
            raise QueryTimeoutError(self._message) from None

    def enter(self, phase: Literal["python", "engine"]) -> None:
        """Mark the start of a phase; raises if the query was stopped meanwhile."""
        with self._lock:
            if self._stopped:
                raise QueryStopped
            self._phase = phase

    def stop(self) -> None:
        """Stop the query: interrupt DuckDB, or raise in the worker's Python code."""
        with self._lock:
            self._stopped = True
            if self._phase == "engine":
                self._cursor.interrupt()
            elif self._phase == "python" and self._thread is not None:
                _raise_in(self._thread, QueryStopped)

    def interrupt_again(self) -> bool:
        """Interrupt DuckDB again if the query still runs there (an interrupt that
        arrives before DuckDB starts the statement is lost); False once it ended."""
        with self._lock:
            if self._phase == "engine":
                self._cursor.interrupt()
            return self._phase != "done"

    def _finish(self) -> None:
        with self._lock:
            was_python = self._phase == "python"
            self._phase = "done"
            if self._stopped and was_python and self._thread is not None:
                _raise_in(self._thread, None)  # clear one still pending


def _raise_in(thread: int, exception: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread), ctypes.py_object(exception) if exception else None
    )
