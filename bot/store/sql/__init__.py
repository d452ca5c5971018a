"""The Store on SQLAlchemy 2 (async): SQLite by default, PostgreSQL by URL.

`open_store(url)` connects, migrates to the newest schema and returns the store. Each
operation runs in its own transaction, or in the caller's (`transaction()`): the same
code serves both, bound to a session scope that does or does not commit. The operations
live in one module per concern (alerts, conversations, outbox); store.py puts them together.
"""

from bot.store.sql.store import SqlOperations, SqlStore, open_store

__all__ = ["SqlOperations", "SqlStore", "open_store"]
