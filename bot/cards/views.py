"""The typed data each card template is rendered from. Pure data, no formatting logic.

Every view names its template (`cards/<template>`) and may `shrink()` itself: the
renderer calls it while the rendered card is over the size limit. Text fields that can
hold data from logs or people (cells, dimension values, names, notes, errors) are put
in TextRuns by the templates, which Teams never reads as markdown; only text from the
rule files and this code goes into markdown TextBlocks.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from bot import messages

TextColor = Literal["Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"]
ContainerStyle = Literal["default", "emphasis", "good", "attention", "warning", "accent"]


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardView(Part):
    """A whole card's data."""

    template: ClassVar[str]

    def shrink(self) -> Self | None:
        """A smaller version of this view, or None when nothing more can go."""
        return None


class Severity(Part):
    level: int = Field(ge=0, le=4)
    code: str
    label: str
    color: TextColor


class Fact(Part):
    name: str
    value: str


class Link(Part):
    title: str
    url: str


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
    """What the header's status line says. Times are DATE/TIME card functions."""

    state: Literal["firing", "acknowledged", "snoozed", "resolved"]
    firing: bool = False
    acknowledged: bool = False
    snoozed: bool = False
    resolved: bool = False
    since: str
    at: str | None = None
    actor: str | None = None
    until: str | None = None
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
    start: str
    end: str
    frequency: str


class AlertActions(Part):
    """Which buttons the card shows in this state, and what they send."""

    data: dict[str, int]
    acknowledge: bool
    snooze: bool
    unsnooze: bool
    resolve: bool
    query: bool
    portal_url: str | None = None


class AlertCardView(CardView):
    template: ClassVar[str] = "alert.json"

    alert_id: int
    title: str
    rule_id: str
    category: str
    description: str
    severity: Severity
    header_style: ContainerStyle
    status: AlertStatusView
    finding: Finding
    window: Window
    evidence: Table | None
    remediation: str
    links: tuple[Link, ...] = ()
    query_lines: tuple[str, ...]
    actions: AlertActions

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

    template: ClassVar[str] = "alert-reply.json"

    kind: Literal[
        "renotify", "resolved", "snooze_expired", "evaluation_error", "evaluation_recovered"
    ]
    renotify: bool = False
    resolved: bool = False
    snooze_expired: bool = False
    evaluation_error: bool = False
    evaluation_recovered: bool = False
    style: ContainerStyle
    alert_id: int | None
    title: str
    rule_id: str
    at: str
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
    template: ClassVar[str] = "help.json"

    commands: tuple[HelpEntry, ...]
    intro: str | None = None


# --- Lists ---------------------------------------------------------------------------


class AlertRow(Part):
    alert_id: str
    severity: Severity
    title: str
    status: str


class AlertListView(CardView):
    template: ClassVar[str] = "alert-list.json"

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
    created_at: str


class SubscriptionListView(CardView):
    template: ClassVar[str] = "subscriptions.json"

    rows: tuple[SubscriptionRow, ...]


class RuleRow(Part):
    rule_id: str
    title: str
    category: str
    severity: Severity
    schedule: str
    enabled: bool


class RuleListView(CardView):
    template: ClassVar[str] = "rules.json"

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
    evaluated_at: str | None
    ok: bool
    error: str | None = None
    #: "1 open alert"
    open_alerts: str
    never: bool = False


class RuleDetailView(CardView):
    template: ClassVar[str] = "rule.json"

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
