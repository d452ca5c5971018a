"""`python -m tests.support.replica_serve`: `alertbot serve` for tests/test_replicas.py,
whose rules run every few seconds. Nothing else uses this module.

Rules may run as often as every 5 s here: the 1-minute floor is Azure's (rule_checks),
and a test that lets several cycles run in under a minute needs cycles of seconds.

REPLICAS_TEST_FAULT=slot-claim-ignored injects a deliberate bug, to show the test catches
it: the slot claim is written but never refused, so every replica commits its own
evaluation of every slot.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts import rule_checks
from bot.cli import main
from bot.store.schema import EvaluationRow
from bot.store.sql.store import SqlStore


def slot_claim_ignored() -> None:
    async def claim(
        self: SqlStore, session: Any, rule_id: str, slot_at: datetime, worker: str
    ) -> None:
        row = {"rule_id": rule_id, "slot_at": slot_at, "evaluated_by": worker}
        committed = {"committed_at": datetime.now(UTC)}
        await session.execute(
            self._insert(EvaluationRow).values(row | committed).on_conflict_do_nothing()
        )

    async def never_evaluated(self: SqlStore, rule_id: str, slot_at: datetime) -> bool:
        return False

    setattr(SqlStore, "_claim_slot", claim)  # noqa: B010 - the deliberate bug
    setattr(SqlStore, "slot_evaluated", never_evaluated)  # noqa: B010


FAULTS = {"slot-claim-ignored": slot_claim_ignored}

if __name__ == "__main__":
    rule_checks.MIN_FREQUENCY = timedelta(seconds=5)  # type: ignore[misc]
    fault = os.environ.get("REPLICAS_TEST_FAULT")
    if fault:
        FAULTS[fault]()
    sys.exit(main(["serve"]))
