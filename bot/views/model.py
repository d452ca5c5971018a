"""What a message says, channel-neutral: pure data, no colours, no markup, no time formats.

Times are datetimes (each channel shows them in its own way, e.g. in the reader's time
zone), states are enums, severities are levels, buttons are a verb, a label and the data
they send back. Each channel renders these views (Teams: bot.channels.teams.cards,
Adaptive Card templates; Slack: Block Kit) and checks that the result fits; a view may
`shrink()` itself while the rendered message is too large. Text fields that can hold
data from logs or people (cells, dimension values, names, notes, errors) must never be
read as markup by a renderer; only text from the rule files and this code may be.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from bot import messages
from bot.models import AlertStatus


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardView(Part):
    """A whole message's data."""

    def shrink(self) -> Self | None:
        """A smaller version of this view, or None when nothing more can go."""
        return None


class Severity(Part):
    level: int = Field(ge=0, le=4)
    code: str
    label: str


class Fact(Part):
    name: str
    value: str


class Link(Part):
    title: str
    url: str


class Option(Part):
    """One choice of a button that asks for a value first (how long to snooze)."""

    label: str
    value: str


class Button(Part):
    """A button that sends `verb` and `data` back; with `options`, the chosen value too
    (as `option_field` in the data). `style` is a hint: the main or a destructive action."""

    verb: str
    label: str
    data: dict[str, Any]
    style: Literal["primary", "danger"] | None = None
    options: tuple[Option, ...] = ()
    option_field: str | None = None
    default_option: str | None = None


class Row(Part):
    cells: tuple[str, ...]


class Table(Part):
    """Rows already cut to fit; `more_note` says what was left out."""

    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    #: Rows that exist but are not shown.
    more_rows: int = Field(default=0, ge=0)
    more_note: str = ""
    hidden_note: str = ""
    #: Values every row shares, shown once above the table instead of in a column.
    common: tuple[Fact, ...] = ()
    cell_limit: int = Field(default=80, ge=8)

    def shrink(self) -> Table | None:
        """Half the rows; at one row, shorter cells; None when already minimal."""
        if len(self.rows) > 1:
            keep = len(self.rows) // 2
            more = self.more_rows + len(self.rows) - keep
            return self.model_copy(
                update={"rows": self.rows[:keep], "more_rows": more, "more_note": _more(more)}
            )
        if self.cell_limit > 16:
            limit = self.cell_limit // 2
            rows = tuple(Row(cells=tuple(_clip(c, limit) for c in r.cells)) for r in self.rows)
            return self.model_copy(update={"rows": rows, "cell_limit": limit})
        return None


LONG_QUERY = 40
SHORT_QUERY = 10


def cut_lines(lines: tuple[str, ...], keep: int) -> tuple[str, ...]:
    """The first `keep - 1` lines and one saying how many were left out."""
    if len(lines) <= keep:
        return lines
    return (*lines[: keep - 1], messages.more_items(len(lines) - keep + 1, "line"))


def _more(count: int) -> str:
    return messages.more_rows(count) if count else ""


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- The alert card and its thread replies ----------------------------------------


class AlertStatusView(Part):
    """What the header's status line says."""

    state: AlertStatus
    since: datetime
    at: datetime | None = None
    actor: str | None = None
    until: datetime | None = None
    note: str | None = None
    #: Set when a snoozed alert had also been acknowledged.
    acknowledged_by: str | None = None


class Finding(Part):
    """`rows = 7 · alerts when > 0` and the dimension values of this alert."""

    measure: str
    value: str
    operator: str
    threshold: str
    dimensions: tuple[Fact, ...] = ()


class Window(Part):
    length: str
    start: datetime
    end: datetime
    frequency: str


class AlertCardView(CardView):
    """An alert as it stands at `as_of`: header, finding, evidence, remediation, buttons."""

    as_of: datetime
    alert_id: int
    title: str
    rule_id: str
    category: str
    description: str
    severity: Severity
    status: AlertStatusView
    finding: Finding
    window: Window
    evidence: Table | None
    remediation: str
    links: tuple[Link, ...] = ()
    query_lines: tuple[str, ...]
    #: The alert's buttons in this state (acknowledge, snooze, end snooze, resolve).
    buttons: tuple[Button, ...]
    #: "Open in Log Analytics", when configured.
    portal_url: str | None = None

    def button(self, verb: str) -> Button | None:
        return next((b for b in self.buttons if b.verb == verb), None)

    def shrink(self) -> Self | None:
        """Long queries first (the portal has them whole), then the evidence rows."""
        if len(self.query_lines) > LONG_QUERY:
            return self.model_copy(update={"query_lines": cut_lines(self.query_lines, LONG_QUERY)})
        if self.evidence is not None:
            return self.model_copy(update={"evidence": self.evidence.shrink()})
        if len(self.query_lines) > SHORT_QUERY:
            return self.model_copy(update={"query_lines": cut_lines(self.query_lines, SHORT_QUERY)})
        return None


class ReplyView(CardView):
    """A short follow-up in the alert card's thread."""

    as_of: datetime
    kind: Literal[
        "renotify", "resolved", "snooze_expired", "evaluation_error", "evaluation_recovered"
    ]
    alert_id: int | None
    title: str
    rule_id: str
    at: datetime
    value: str | None = None
    threshold: str | None = None
    measure: str | None = None
    #: For evaluation errors: the error text and what to check.
    error: str | None = None
    #: "Failed 3 times in a row."
    failures: str | None = None
    hints: tuple[str, ...] = ()

    def shrink(self) -> Self | None:
        if self.error and len(self.error) > 200:
            return self.model_copy(update={"error": _clip(self.error, 200)})
        return None


# --- Help ---------------------------------------------------------------------------


class CommandHelp(Part):
    """One chat command as the help card and the app manifest show it."""

    name: str = Field(pattern=r"^[a-z][a-z-]*$", max_length=32)
    usage: str = Field(max_length=128)
    description: str = Field(max_length=200)
    examples: tuple[str, ...] = ()
    #: Only alert admins may use it (it changes something).
    admin_only: bool = False


class HelpEntry(Part):
    usage: str
    description: str
    examples: str
    admin_only: bool


class HelpCardView(CardView):
    commands: tuple[HelpEntry, ...]
    intro: str | None = None


# --- Lists ---------------------------------------------------------------------------


class AlertRow(Part):
    alert_id: str
    severity: Severity
    title: str
    state: AlertStatus
    #: When it reached this state (resolved, snoozed until, firing since).
    at: datetime
    #: Who acknowledged it.
    actor: str | None = None


class AlertListView(CardView):
    as_of: datetime
    scope: Literal["open", "all"]
    open_only: bool
    rows: tuple[AlertRow, ...]
    total: int
    more_note: str = ""

    def shrink(self) -> Self | None:
        if len(self.rows) <= 1:
            return None
        keep = len(self.rows) // 2
        note = messages.more_items(self.total - keep, "alert")
        return self.model_copy(update={"rows": self.rows[:keep], "more_note": note})


class SubscriptionRow(Part):
    target: str
    kind: str
    severities: str
    created_by: str
    created_at: datetime


class SubscriptionListView(CardView):
    as_of: datetime
    rows: tuple[SubscriptionRow, ...]


class RuleRow(Part):
    rule_id: str
    title: str
    category: str
    severity: Severity
    schedule: str
    enabled: bool


class RuleListView(CardView):
    rows: tuple[RuleRow, ...]
    more: int = Field(default=0, ge=0)
    more_note: str = ""

    def shrink(self) -> Self | None:
        if len(self.rows) <= 1:
            return None
        keep = len(self.rows) // 2
        more = self.more + len(self.rows) - keep
        note = messages.more_items(more, "rule")
        return self.model_copy(update={"rows": self.rows[:keep], "more": more, "more_note": note})


class LastResult(Part):
    evaluated_at: datetime | None
    ok: bool
    error: str | None = None
    #: "1 open alert"
    open_alerts: str
    never: bool = False


class RuleDetailView(CardView):
    as_of: datetime
    rule_id: str
    title: str
    description: str
    category: str
    severity: Severity
    enabled: bool
    schedule: str
    condition: str
    dimensions: str
    query_lines: tuple[str, ...]
    last: LastResult
    remediation: str
    links: tuple[Link, ...] = ()
    data: dict[str, str]

    def shrink(self) -> Self | None:
        if len(self.query_lines) > SHORT_QUERY:
            return self.model_copy(update={"query_lines": cut_lines(self.query_lines, SHORT_QUERY)})
        if len(self.description) > 500:
            return self.model_copy(update={"description": _clip(self.description, 500)})
        return None
