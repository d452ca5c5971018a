"""What the buttons send back: verbs and their data, typed.

Each channel turns a press into the button's `verb` and `data` (Teams: an
`adaptiveCard/action` invoke; Slack: a block action), with the chosen option (the snooze
duration) merged into `data`. The router parses `data` with `ActionData.model_validate`
and dispatches on `Verb`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from pydantic import BaseModel, ConfigDict, Field


class Verb(StrEnum):
    ACKNOWLEDGE = "alert.ack"
    SNOOZE = "alert.snooze"
    UNSNOOZE = "alert.unsnooze"
    RESOLVE = "alert.resolve"
    RUN_RULE = "rule.run"


#: The snooze card's choices, as `snooze <id> <duration>` spells them.
SNOOZE_DURATIONS: Final = ("1h", "4h", "24h", "7d")


class ActionData(BaseModel):
    """`data` of a button press on one of our messages.

    Alert buttons send `alertId` and the `version` of the alert the card showed (so
    a press on an outdated card can be recognised); the snooze button adds
    `duration`; the rule card's Run button sends `ruleId`.
    """

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    # Bounded like the ids people type (9 digits) and the 32-bit columns: anything
    # larger is no card of ours, refused as unreadable rather than sent to the store.
    alert_id: int | None = Field(default=None, alias="alertId", ge=1, le=999_999_999)
    version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    duration: str | None = None
    rule_id: str | None = Field(default=None, alias="ruleId")


def alert_data(alert_id: int, version: int) -> dict[str, int]:
    """The `data` every alert button sends."""
    return {"alertId": alert_id, "version": version}
