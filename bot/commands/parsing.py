"""Read what people type, forgivingly: words, and the typed arguments of the command grammar. Pure.

Every argument kind takes the words left after the command name and returns its value and
how many words it used, or raises ArgError with a short sentence for the person. Matching
ignores case, extra spaces and trailing punctuation; ids may be written `42` or `#42`;
durations `4h`, `4 hours`, `1 week`, `P1D`; categories by name, common name or an
unambiguous prefix (`pim`, `access reviews`, `cross-tenant`, `prov`); severities `0`-`4`,
`sev2` or a name (`critical`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Literal, Protocol

from bot import messages
from bot.models import STANDARD_CATEGORIES
from bot.timespans import DurationTooLongError, TimeSpanError, parse_duration

_TRAILING: Final = ".,;:!?"
#: The shortest prefix of a name that may stand for it.
MIN_PREFIX: Final = 3


@dataclass(frozen=True, slots=True)
class Word:
    """One word as typed, and its key for matching (lower case, no trailing punctuation)."""

    raw: str
    key: str


def split_words(text: str) -> list[Word]:
    return [Word(raw=raw, key=word_key(raw)) for raw in text.split()]


def word_key(raw: str) -> str:
    stripped = raw.rstrip(_TRAILING).lower()
    return stripped or raw.lower()


def squash(text: str) -> str:
    """Letters and digits only: `Cross-Tenant` and `cross tenant` are the same."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


class ArgError(ValueError):
    """An argument could not be read; the message is for the person who typed it."""


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What names mean right now: the rules in force and the categories."""

    rule_ids: tuple[str, ...] = ()
    categories: tuple[str, ...] = STANDARD_CATEGORIES


class ArgKind(Protocol):
    """One kind of argument: reads from the start of `words` (never empty)."""

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]: ...


def suggestions(word: str, candidates: Sequence[str], *, limit: int = 1) -> list[str]:
    """The candidates that look like a misspelling of `word`, closest first."""
    return difflib.get_close_matches(word.lower(), candidates, n=limit, cutoff=0.7)


# --- Alert ids -----------------------------------------------------------------------

_ALERT_ID: Final = re.compile(r"^#?(\d{1,9})$")
_ALERT_FILLERS: Final = frozenset({"alert", "alerts", "id", "no", "number"})


class AlertIdKind:
    """`42`, `#42`, `alert 42`."""

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        skip = 1 if len(words) > 1 and words[0].key in _ALERT_FILLERS else 0
        match = _ALERT_ID.match(words[skip].key)
        if match is None:
            raise ArgError(messages.not_an_alert_id(words[skip].raw))
        return int(match[1]), skip + 1


# --- Durations -----------------------------------------------------------------------

_UNITS: Final[Mapping[str, timedelta]] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), timedelta(seconds=1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), timedelta(minutes=1)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), timedelta(hours=1)),
    **dict.fromkeys(("d", "day", "days"), timedelta(days=1)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), timedelta(weeks=1)),
}
_ONE: Final = frozenset({"a", "an", "one"})
_PART: Final = re.compile(r"(\d+(?:\.\d+)?|an\b|a\b|one\b)\s*([a-z]+)\s*(?:and\s+)?")
_DURATION_FILLERS: Final = frozenset({"for"})
#: A duration is at most this many words: `1 hour and 30 minutes`.
_MAX_DURATION_WORDS: Final = 5


def human_duration(text: str) -> timedelta | None:
    """`4h`, `4 hours`, `an hour`, `1h30m`, `1 hour and 30 minutes`, `P1D`; None if not one.

    A duration too long for a timedelta (`99999999999d`) is `timedelta.max`, which every
    range refuses as out of range."""
    cleaned = text.strip().lower()
    total, position = timedelta(0), 0
    for part in _PART.finditer(cleaned):
        unit = _UNITS.get(part[2])
        if part.start() != position or unit is None:
            break
        amount = 1.0 if part[1] in _ONE else float(part[1])
        try:
            total, position = total + amount * unit, part.end()
        except OverflowError:
            total, position = timedelta.max, part.end()
    if position == len(cleaned) and total > timedelta(0):
        return total
    try:
        return parse_duration(text) if " " not in cleaned else None
    except DurationTooLongError:
        return timedelta.max
    except TimeSpanError:
        return None


class DurationKind:
    """A positive duration between `minimum` and `maximum` (a snooze: 1 minute to 30 days)."""

    def __init__(self, *, minimum: timedelta, maximum: timedelta) -> None:
        self.minimum, self.maximum = minimum, maximum

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        skip = 1 if len(words) > 1 and words[0].key in _DURATION_FILLERS else 0
        rest = words[skip:]
        for count in range(min(len(rest), _MAX_DURATION_WORDS), 0, -1):
            duration = human_duration(" ".join(w.key for w in rest[:count]))
            if duration is not None:
                typed = " ".join(word.raw for word in rest[:count])
                return self.check(duration, typed), skip + count
        # `3 months`: quote the amount with its unit.
        shown = rest[:2] if len(rest) > 1 and rest[0].key.replace(".", "").isdigit() else rest[:1]
        raise ArgError(messages.bad_duration(" ".join(word.raw for word in shown)))

    def check(self, duration: timedelta, text: str) -> timedelta:
        if not self.minimum <= duration <= self.maximum:
            raise ArgError(messages.duration_out_of_range(text, self.minimum, self.maximum))
        return duration


# --- Severities ----------------------------------------------------------------------

_SEVERITY: Final = re.compile(r"^(?:sev(?:erity)?)?([0-4])$")
_SEVERITY_NAMES: Final[Mapping[str, int]] = {
    **{label.lower(): level for level, label in enumerate(messages.SEVERITY_LABELS)},
    "info": 3,
}


class SeverityKind:
    """`2`, `sev2`, `Sev 2`, `severity 2`, or a name: `critical`, `warning`."""

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        first = words[0].key
        if first in ("sev", "severity") and len(words) > 1:
            match = _SEVERITY.match(words[1].key)
            if match:
                return int(match[1]), 2
        match = _SEVERITY.match(first)
        if match:
            return int(match[1]), 1
        if first in _SEVERITY_NAMES:
            return _SEVERITY_NAMES[first], 1
        raise ArgError(messages.bad_severity(words[0].raw))


# --- Choices and free text -----------------------------------------------------------


class ChoiceKind:
    """One of a few words; `choices` maps each accepted word to its value."""

    def __init__(self, choices: Mapping[str, str]) -> None:
        self.choices = dict(choices)

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        value = self.choices.get(words[0].key)
        if value is None:
            raise ArgError(messages.bad_choice(words[0].raw, sorted(set(self.choices.values()))))
        return value, 1


class TextKind:
    """The rest of the message as typed (a note)."""

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        return " ".join(word.raw for word in words), len(words)


# --- Rules and categories ------------------------------------------------------------

#: Common names of the standard categories, letters and digits only (see `squash`).
CATEGORY_ALIASES: Final[Mapping[str, str]] = {
    "pim": "Privileged Identity Management",
    "privileged": "Privileged Identity Management",
    "accessreview": "Access Reviews",
    "reviews": "Access Reviews",
    "entitlement": "Entitlement management",
    "elm": "Entitlement management",
    "accesspackages": "Entitlement management",
    "lifecycle": "Lifecycle workflows",
    "lcw": "Lifecycle workflows",
    "workflows": "Lifecycle workflows",
    "multitenant": "Multitenant collaboration",
    "crosstenant": "Multitenant collaboration",
    "mtc": "Multitenant collaboration",
    "provisioning": "Provisioning",
    "scim": "Provisioning",
    "sync": "Provisioning",
}


@dataclass(frozen=True, slots=True)
class Target:
    """What a subscription is to: everything, a category or a rule (`value` as stored)."""

    kind: Literal["all", "category", "rule", "unknown"]
    value: str


ALL: Final = Target(kind="all", value="all")
_ALL_WORDS: Final = frozenset({"all", "everything", "*"})


def resolve_category(text: str, categories: Sequence[str]) -> str | None:
    """The category `text` names (exactly, by a common name, or by an unambiguous prefix).

    Raises ArgError when a prefix could mean several."""
    key = squash(text)
    names = {squash(c): c for c in categories}
    names.update({alias: c for alias, c in CATEGORY_ALIASES.items() if c in categories})
    if key in names:
        return names[key]
    if len(key) < MIN_PREFIX:
        return None
    found = sorted({c for name, c in names.items() if name.startswith(key)})
    if len(found) > 1:
        raise ArgError(messages.ambiguous(text, found))
    return found[0] if found else None


def resolve_rule(text: str, rule_ids: Sequence[str]) -> str | None:
    """The rule `text` names: its id in any case, or an unambiguous prefix of it."""
    key = text.lower()
    if key in rule_ids:
        return key
    if len(key) < MIN_PREFIX:
        return None
    found = [rule_id for rule_id in rule_ids if rule_id.startswith(key)]
    if len(found) > 1:
        raise ArgError(messages.ambiguous(text, found))
    return found[0] if found else None


class RuleIdKind:
    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        word = words[0]
        rule_id = resolve_rule(word.key, context.rule_ids)
        if rule_id is None:
            close = suggestions(word.key, context.rule_ids)
            raise ArgError(messages.rule_not_found(word.raw) + messages.did_you_mean(close))
        return rule_id, 1


class TargetKind:
    """`all`, a category (it may take several words: `access reviews`) or a rule id.

    `lenient` (unsubscribe): an unknown one-word target is returned as `unknown`, so a
    subscription to a rule that no longer exists can still be removed."""

    def __init__(self, *, lenient: bool = False) -> None:
        self.lenient = lenient

    def parse(self, words: Sequence[Word], context: ParseContext) -> tuple[object, int]:
        if words[0].key in _ALL_WORDS:
            return ALL, 1
        if words[0].key in context.rule_ids:  # a rule id in full wins over a category prefix
            return Target(kind="rule", value=words[0].key), 1
        problem: ArgError | None = None
        for count in range(len(words), 0, -1):
            text = " ".join(word.key for word in words[:count])
            try:
                found = self._category(text, context) or self._rule(text, context)
            except ArgError as error:
                problem = problem or error
                continue
            if found is not None:
                return found, count
        if problem is not None:
            raise problem
        if self.lenient:
            return Target(kind="unknown", value=words[0].key), 1
        raise ArgError(self._unknown(words[0], context))

    @staticmethod
    def _category(text: str, context: ParseContext) -> Target | None:
        category = resolve_category(text, context.categories)
        return Target(kind="category", value=category) if category else None

    @staticmethod
    def _rule(text: str, context: ParseContext) -> Target | None:
        if " " in text:
            return None
        rule_id = resolve_rule(text, context.rule_ids)
        return Target(kind="rule", value=rule_id) if rule_id else None

    @staticmethod
    def _unknown(word: Word, context: ParseContext) -> str:
        names = [*context.rule_ids, *(c.lower() for c in context.categories)]
        return messages.unknown_target(word.raw) + messages.did_you_mean(
            suggestions(word.key, names)
        )
