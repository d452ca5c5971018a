"""Where KQL runs: the interface, the embedded demo engine and Azure Log Analytics."""

from bot.workspace.base import Column, QueryResult, TimeSpan, Workspace

__all__ = ["Column", "QueryResult", "TimeSpan", "Workspace"]
