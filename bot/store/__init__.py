"""Persistence behind a small interface (base.py); sql.py implements it with SQLAlchemy.

Only the composition root names the implementation (`bot.store.sql.open_store`); the
rest of the bot depends on `Store` and the errors re-exported here.
"""

from bot.store.base import (
    ALL_TARGET,
    ConflictError,
    RuleState,
    SlotTakenError,
    Store,
    StoreError,
    StoreOperations,
    StoreUnavailableError,
    new_outbox_item,
)

__all__ = [
    "ALL_TARGET",
    "ConflictError",
    "RuleState",
    "SlotTakenError",
    "Store",
    "StoreError",
    "StoreOperations",
    "StoreUnavailableError",
    "new_outbox_item",
]
