"""The question catalog as data: the pydantic models config/questions/*.yaml is validated against.

A command is one question admins ask: example phrasings, typed parameters with defaults,
a KQL template that names its parameters as identifiers, and how to present the answer.
The vocabulary (synonyms, filler words, job aliases), the limits and where entity names
come from are data too, so the catalog is the one source of truth for understanding.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.alerts.rule_model import IDENTIFIER, SLUG, Duration

#: What a parameter holds, and so where its value comes from in the text.
ParameterKind = Literal[
    "job",  # a provisioning JobId; an app name maps to its job through the workspace
    "application",  # an app (service principal) display name, e.g. ServiceNow
    "user",  # a UPN, an object id or a quoted name
    "group",  # a group object id or name
    "workflow",  # a lifecycle workflow name
    "extension",  # an entitlement management custom extension name
    "error_code",  # a provisioning error code (ResultSignature)
    "count",  # a whole number: `top 10`
    "window",  # the time range: never in the KQL, sent as the query's timespan
    "bin",  # a chart bucket chosen from the window (1h or 1d): no text, a timespan literal
    # The start of the asked window, as a timespan since 1970-01-01 (a literal): the query
    # then runs over the window and the period of the same length before it, to compare.
    "period_start",
    "action",  # a provisioning action (Create, Update, ...): from the vocabulary's `actions`
]
#: Kinds whose value is a name found in the workspace's own data.
ENTITY_KINDS: Final = (
    "job", "application", "group", "workflow", "extension", "error_code", "user",
)  # fmt: skip
#: {rows|noun}, {distinct Column|noun}, {sum Column|noun}, {window}, {param name}.
SUMMARY_FIELD: Final = re.compile(
    r"\{(?:(?P<agg>rows|distinct|sum)(?:\s+(?P<column>\w+))?\|(?P<noun>[^{}|]+)"
    r"|(?P<window>window)|param\s+(?P<param>\w+))\}"
)
_PLACEHOLDER: Final = re.compile(r"\{(\w+)\}")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(Strict):
    kind: ParameterKind
    #: Asked for (with buttons where the data offers choices) when missing.
    required: bool = False
    #: window: a time phrase (`24h`, `7d`, `today`); count: a number. Others: empty = all.
    default: str | int | None = None
    #: How a prompt names it: "the provisioning job".
    description: str = Field(min_length=1, max_length=80)
    #: Bounds of a count.
    minimum: int = Field(default=1, ge=1)
    maximum: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _default_fits_kind(self) -> ParameterSpec:
        if self.kind == "window" and not isinstance(self.default, str):
            raise ValueError("a window needs a default time range, e.g. `default: 24h`")
        if self.kind == "count" and not isinstance(self.default, int):
            raise ValueError("a count needs a whole-number default, e.g. `default: 10`")
        if self.kind not in ("window", "count") and self.default is not None:
            raise ValueError("only window and count parameters take a default")
        if self.required and self.kind in ("window", "count", "bin", "period_start", "action"):
            raise ValueError(f"a {self.kind} always has a value; remove `required`")
        return self


class Presentation(Strict):
    """How an answer reads: a summary line, the message for no rows, columns, a chart."""

    #: `{rows|failure} for {distinct Identity|identity/identities} {window}`.
    summary: str = Field(min_length=1, max_length=200)
    #: Said when nothing was found: `No provisioning failures {window}.`
    empty: str = Field(min_length=1, max_length=200)
    #: Table columns, in order (the first rows are shown with these).
    columns: tuple[str, ...] = ()
    chart: Literal["line", "bar"] | None = None

    @model_validator(mode="after")
    def _fields_are_known(self) -> Presentation:
        for text in (self.summary, self.empty):
            stripped = SUMMARY_FIELD.sub("", text)
            if "{" in stripped or "}" in stripped:
                raise ValueError(
                    f"unknown field in {text!r}: use {{rows|noun}}, {{distinct Column|noun}}, "
                    "{sum Column|noun}, {window} or {param name}"
                )
        return self


class Command(Strict):
    """One question the bot answers. See config/questions/README.md."""

    name: str = Field(pattern=SLUG.pattern, max_length=32)
    kind: Literal["query", "help"] = "query"
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1, max_length=200)
    #: How admins ask it; `{param}` stands for a parameter's value.
    examples: tuple[str, ...] = Field(min_length=2)
    #: More words that point at this command without making a full phrasing.
    keywords: tuple[str, ...] = ()
    parameters: dict[Annotated[str, Field(pattern=IDENTIFIER.pattern)], ParameterSpec] = Field(
        default_factory=dict
    )
    query: str | None = None
    answer: Presentation | None = None

    @model_validator(mode="after")
    def _shape_fits_kind(self) -> Command:
        if self.kind == "help":
            if self.query or self.answer or self.parameters:
                raise ValueError("a help command has no query, answer or parameters")
            return self
        if not self.query or self.answer is None:
            raise ValueError("a query command needs `query` and `answer`")
        windows = [n for n, p in self.parameters.items() if p.kind == "window"]
        if len(windows) != 1:
            raise ValueError("a query command has exactly one `window` parameter")
        for example in self.examples:
            for name in _PLACEHOLDER.findall(example):
                if name not in self.parameters:
                    raise ValueError(f"example {example!r} names an unknown parameter {{{name}}}")
        return self

    def window_parameter(self) -> str:
        return next(n for n, p in self.parameters.items() if p.kind == "window")


class Vocabulary(Strict):
    """Words: what to ignore, what means the same, and how jobs are also called."""

    stop_words: tuple[str, ...] = ()
    #: canonical word -> words or phrases that mean it (`failure: [failed, errors]`).
    synonyms: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    #: Words in app names too common to pick one app (`microsoft`, `provisioning`).
    generic_app_words: tuple[str, ...] = ()
    #: JobId template (the part before the first dot) -> what admins call such jobs.
    job_templates: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    #: An app's display name -> its nicknames (`ServiceNow: [snow]`).
    app_nicknames: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    #: A concept -> the provisioning action it names (`create: Create`).
    actions: dict[str, str] = Field(default_factory=dict)
    #: Verbs that, first in a message, ask the bot to change something: refused.
    commands_to_refuse: tuple[str, ...] = ()


class Limits(Strict):
    #: The longest time range a question may search.
    max_window: Duration = timedelta(days=90)
    #: Rows fetched; the total is counted separately when there are more.
    max_rows: int = Field(default=1000, ge=1, le=10_000)
    #: Tables a template may read.
    tables: tuple[str, ...] = ("AuditLogs", "AADProvisioningLogs")
    #: How long names read from the workspace (apps, groups, ...) are reused.
    entity_cache: Duration = timedelta(minutes=5)
    #: How far back names are looked up.
    entity_window: Duration = timedelta(days=30)
    #: Scores: below `min_score` nothing fits; within `margin` of the best, ask which.
    min_score: float = Field(default=0.35, gt=0, lt=1)
    margin: float = Field(default=0.08, ge=0, lt=1)


EntityKind = Literal["job", "group", "workflow", "extension", "error_code", "user"]


class EntitySource(Strict):
    """A query listing the names of one entity kind: columns `Id` and `Name`."""

    query: str = Field(min_length=1)


class CatalogFile(Strict):
    """One file of config/questions: commands, and optionally the shared settings."""

    commands: tuple[Command, ...] = ()
    vocabulary: Vocabulary | None = None
    limits: Limits | None = None
    entities: dict[EntityKind, EntitySource] | None = None
