"""The alert rule as data: the pydantic models a rule file is validated against.

Field names and meanings mirror Azure Monitor log search alert rules (evaluation
frequency, window, time aggregation, dimensions, failing periods, auto-mitigate).
Checks that need more than one field, the KQL or other files live in rule_checks
and kql_checks, so that every problem can be reported with its position.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bot.timespans import TimeSpanError, parse_duration

Operator = Literal[">", ">=", "<", "<=", "==", "!="]
Aggregation = Literal["count", "sum", "avg", "min", "max"]
ParameterType = Literal["string", "string_list", "int", "timespan", "guid", "guid_list"]

SLUG: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
IDENTIFIER: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_DIMENSIONS: Final = 6
_INT64: Final = 2**63


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError("a duration is text such as 5m, 1h, 24h or P1D")
    try:
        return parse_duration(value)
    except TimeSpanError as error:
        raise ValueError(str(error)) from None


#: `5m`, `1h`, `24h`, `7d`, `P1D`, `PT30M`.
Duration = Annotated[timedelta, BeforeValidator(_duration)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Measure(_Strict):
    """What is compared with the threshold: the number of rows, or an aggregate of a column."""

    aggregation: Aggregation = "count"
    column: str | None = None

    @model_validator(mode="after")
    def _column_matches_aggregation(self) -> Measure:
        if self.aggregation == "count" and self.column is not None:
            raise ValueError("count measures rows; remove `column` or choose sum|avg|min|max")
        if self.aggregation != "count" and not self.column:
            raise ValueError(f"{self.aggregation} needs the `column` to aggregate")
        return self

    def describe(self) -> str:
        return "count()" if self.column is None else f"{self.aggregation}({self.column})"


def _measure(value: Any) -> Any:
    # `measure: count` is the common case; spelled out it is {aggregation: count}.
    return {"aggregation": value} if isinstance(value, str) else value


class FailingPeriods(_Strict):
    """Fire only when `min_failing` of the last `evaluations` evaluations breached."""

    min_failing: int = Field(default=1, ge=1)
    evaluations: int = Field(default=1, ge=1, le=6)


class Renotify(_Strict):
    """Remind about a still-firing alert every `interval`, optionally backing off."""

    interval: Duration
    #: Each reminder waits `backoff` times longer than the previous one (1 = fixed).
    backoff: float = Field(default=1.0, ge=1.0, le=10.0)
    #: The longest wait between reminders when backing off.
    max_interval: Duration | None = None

    def delay(self, reminders_sent: int) -> timedelta:
        """Wait before the next reminder, after `reminders_sent` earlier ones."""
        delay = self.interval * (self.backoff**reminders_sent)
        return min(delay, self.max_interval) if self.max_interval else delay


class Link(_Strict):
    title: str = Field(min_length=1)
    url: str = Field(pattern=r"^https://\S+$")


class Remediation(_Strict):
    """What the admin should do, shown on the alert card."""

    text: str = Field(min_length=1)
    links: tuple[Link, ...] = ()


class Parameter(_Strict):
    """A named, typed value bound into the query as a KQL literal (see binding)."""

    type: ParameterType
    value: str | int | timedelta | tuple[str, ...]
    description: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _coerce_value(cls, data: Any) -> Any:
        if isinstance(data, dict) and "type" in data and "value" in data:
            return {**data, "value": coerce_parameter(str(data["type"]), data["value"])}
        return data


def coerce_parameter(kind: str, value: Any) -> Any:
    """The value in its canonical form for `kind`, or ValueError saying what was expected."""
    if kind in ("string_list", "guid_list"):
        if not isinstance(value, list) or not value:
            raise ValueError(f"a {kind} value is a non-empty list")
        item_kind = kind.removesuffix("_list")
        return tuple(coerce_parameter(item_kind, item) for item in value)
    if kind == "string":
        return _plain_text(value)
    if kind == "guid":
        return _guid(value)
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or not -_INT64 < value < _INT64:
            raise ValueError(f"an int value is a whole number, got {value!r}")
        return value
    if kind == "timespan":
        return _duration(value)
    return value  # unknown type: the Literal on `type` reports it


def _plain_text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a string value is text, got {value!r} (quote it in YAML)")
    if any(ord(char) < 32 and char not in "\t\n\r" for char in value):
        raise ValueError("a string value may not contain control characters")
    return value


def _guid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValueError(f"not a GUID: {value!r}") from None


#: `{Column}` in a notice's text: the column's value in the event's row.
NOTICE_PLACEHOLDER: Final = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
NoticeButton = Literal["was_me", "not_me"]


class NotifyPerson(_Strict):
    """Tell the person an event happened to (their password reset, their security info
    changed), in their own chat, and let them answer "This was me" / "This wasn't me".

    Each row of the rule's query is one event; `record_id_column` names the audit record
    (one notice per record, however often the rule runs). "This wasn't me" raises an
    alert of the rule (its severity and category), routed like any alert.
    """

    #: The person's Entra object id and/or user principal name (at least one).
    object_id_column: str | None = Field(default=None, pattern=IDENTIFIER.pattern)
    upn_column: str | None = Field(default=None, pattern=IDENTIFIER.pattern)
    record_id_column: str = Field(default="Id", pattern=IDENTIFIER.pattern)
    time_column: str = Field(default="TimeGenerated", pattern=IDENTIFIER.pattern)
    #: What happened, who did it and from where: columns shown as the event's facts.
    activity_column: str = Field(default="Activity", pattern=IDENTIFIER.pattern)
    initiated_by_column: str | None = Field(default=None, pattern=IDENTIFIER.pattern)
    ip_column: str | None = Field(default=None, pattern=IDENTIFIER.pattern)
    title: str = Field(min_length=1, max_length=120)
    #: One line per event; `{Column}` is replaced by the row's value of Column.
    text: str = Field(min_length=1, max_length=500)
    buttons: tuple[NoticeButton, ...] = ("was_me", "not_me")
    #: Events for one person this close together make one notice.
    group_within: Duration = timedelta(minutes=5)

    @model_validator(mode="after")
    def _names_the_person(self) -> NotifyPerson:
        if self.object_id_column is None and self.upn_column is None:
            raise ValueError("name the person: object_id_column and/or upn_column")
        if len(set(self.buttons)) != len(self.buttons):
            raise ValueError("a button is listed twice")
        unknown = sorted(set(self.placeholders()) - set(self.columns()))
        if unknown:
            raise ValueError(
                f"text uses {', '.join(unknown)}, which is not one of the notice's columns "
                f"({', '.join(self.columns())})"
            )
        return self

    def columns(self) -> tuple[str, ...]:
        """Every column the notice reads (and all it keeps of a row)."""
        named = (
            self.record_id_column,
            self.time_column,
            self.object_id_column,
            self.upn_column,
            self.activity_column,
            self.initiated_by_column,
            self.ip_column,
        )
        return tuple(dict.fromkeys(c for c in named if c))

    def placeholders(self) -> list[str]:
        return NOTICE_PLACEHOLDER.findall(self.text)


class Rule(_Strict):
    """One alert rule. See config/rules/README.md for the file format."""

    id: str = Field(pattern=SLUG.pattern, max_length=64)
    title: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1)
    category: str = Field(min_length=1)
    severity: int = Field(ge=0, le=4)
    enabled: bool = True
    query: str = Field(min_length=1)
    frequency: Duration
    window: Duration
    measure: Annotated[Measure, BeforeValidator(_measure)] = Measure()
    operator: Operator
    threshold: float = Field(allow_inf_nan=False)
    dimensions: tuple[str, ...] = ()
    failing_periods: FailingPeriods = FailingPeriods()
    #: Stateful (Azure autoMitigate): fire once, resolve when clear. False: fire every time.
    auto_resolve: bool = True
    renotify: Renotify | None = None
    parameters: dict[Annotated[str, Field(pattern=IDENTIFIER.pattern)], Parameter] = Field(
        default_factory=dict
    )
    remediation: Remediation
    #: Tables and columns outside the known Entra schemas that the query may read
    #: (custom logs, columns added by a transformation): not reported as unknown.
    custom_tables: tuple[str, ...] = ()
    custom_columns: tuple[str, ...] = ()
    #: Tell the affected person directly (see NotifyPerson); None: an ordinary alert rule.
    notify_person: NotifyPerson | None = None


def format_duration(duration: timedelta) -> str:
    """The shortest exact form: `15m`, `1h`, `1d`, `90s`, `1500ms`."""
    milliseconds = round(duration.total_seconds() * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if milliseconds % size == 0:
            return f"{milliseconds // size}{unit}"
    return f"{milliseconds}ms"
