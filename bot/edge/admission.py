"""A cap on requests that are still being read or authenticated.

Until a caller has proven who it is, it costs us a connection, a body buffer and a token
check; `UnauthenticatedGate` lets at most `capacity` such requests in at once and answers
the rest 503 (with Retry-After) at once instead of queueing them. A route holds its slot
from the first byte of the body until authentication succeeds (`admitted`), then lets it
go (`release`), so authenticated turns, however long, never count against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class BusyError(Exception):
    """Too many unauthenticated requests at once."""


class Admission:
    """One request's slot: released once, when authenticated or when the request ends."""

    def __init__(self, gate: UnauthenticatedGate) -> None:
        self._gate: UnauthenticatedGate | None = gate

    def release(self) -> None:
        if self._gate is not None:
            self._gate._in_flight -= 1
            self._gate = None


class UnauthenticatedGate:
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._in_flight = 0
        #: Requests turned away since start (for the log and the tests).
        self.refused = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @contextmanager
    def admitted(self) -> Iterator[Admission]:
        """A slot, released on exit if the route has not released it already; BusyError if full."""
        if self._in_flight >= self.capacity:
            self.refused += 1
            raise BusyError
        self._in_flight += 1
        admission = Admission(self)
        try:
            yield admission
        finally:
            admission.release()
