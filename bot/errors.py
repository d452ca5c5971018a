"""The project's error hierarchy, written down in one place.

AlertBotError
 +-- ConfigError                  invalid settings or configuration files (user-facing)
 +-- WorkspaceError               anything that went wrong running a query
      +-- QueryError              the query is wrong: syntax, unknown column (user-facing)
      |    +-- UnsupportedQueryError   valid KQL that the local engine cannot run
      +-- RetryableWorkspaceError the same query may succeed later
           +-- ThrottledError     the workspace said 429; `retry_after` seconds if it said how long
           +-- QueryTimeoutError  the server or our own timeout expired
           +-- WorkspaceUnavailableError   network, auth token, 5xx

`retryable` on each class lets a caller decide without isinstance chains.
"""

from __future__ import annotations


class AlertBotError(Exception):
    """Base of every error this package raises on purpose."""

    retryable: bool = False


class ConfigError(AlertBotError):
    """Invalid settings or configuration; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class WorkspaceError(AlertBotError):
    """A query could not be answered."""


class QueryError(WorkspaceError):
    """The query is wrong; `line` and `column` (1-based) locate it when known."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None and column is not None else ""
        super().__init__(f"{where}{message}")


class UnsupportedQueryError(QueryError):
    """Valid KQL that the embedded engine does not implement."""


class RetryableWorkspaceError(WorkspaceError):
    """The same query may succeed if tried again later."""

    retryable = True


class ThrottledError(RetryableWorkspaceError):
    """The workspace refused the query for now (HTTP 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class QueryTimeoutError(RetryableWorkspaceError):
    """The query ran out of time."""


class WorkspaceUnavailableError(RetryableWorkspaceError):
    """The workspace could not be reached or refused our credentials."""
