"""Which catalog commands a question fits, and how well: a score per command. Pure.

A question is read into concepts (bot.ask.words) after its names, time range and count
are taken out. Each command's profile is the concepts of its example phrasings, title
and keywords. Concepts are weighted by how few commands use them (inverse document
frequency: `skip` says more than `provisioning`), and a command scores by how much of
the question it explains, how completely one of its phrasings is matched, and how much
of its keywords; names the question mentions count for the commands that can use them
and against those that cannot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from bot.ask.catalog import Catalog
from bot.ask.mentions import BARRIER, AliasTable, MentionKind, Scan, scan
from bot.ask.model import Command, ParameterKind
from bot.ask.timephrases import TimeWindow, find_window
from bot.ask.words import Lexicon, words

_COUNT: Final = (
    re.compile(r"\b(?:top|first|latest|biggest|largest|max(?:imum)?|limit(?: to)?)\s+(\d{1,4})\b"),
    re.compile(r"\b(\d{1,4})\s+(?:most|top|biggest)\b"),
)
_PLACEHOLDER: Final = re.compile(r"\{\w+\}")
#: The vocabulary's concept for products and logs the bot does not read.
ELSEWHERE: Final = "elsewhere"
#: Words before a request's verb: `please delete ...`, `can you reset ...`.
_POLITE: Final = frozenset(
    {"please", "pls", "plz", "can", "could", "would", "will", "you", "hey", "hi", "bot", "ok",
     "okay", "now", "go", "and", "then", "just", "kindly", "|"}
)  # fmt: skip
#: Which parameter kinds can hold each kind of mention.
ACCEPTS: Final[Mapping[MentionKind, tuple[ParameterKind, ...]]] = {
    "job": ("job", "application"),
    "upn": ("user",),
    "user": ("user",),
    "guid": ("user", "group"),
    "group": ("group",),
    "workflow": ("workflow",),
    "extension": ("extension",),
    "error_code": ("error_code",),
    "quoted": ("user", "group", "workflow", "extension"),
}
#: How the parts of a score are weighed (tuned on tests/data/ask_phrasings.yaml).
_QUESTION, _PHRASING, _KEYWORDS = 0.5, 0.3, 0.2
_FITS, _MISFITS, _MOST_BONUS = 0.08, 0.10, 0.16
#: Examples are read at a fixed, arbitrary time: only their words matter.
_EXAMPLE_TIME: Final = datetime(2026, 1, 7, 12, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a question says, separated: names, time range, count, and its concepts."""

    scan: Scan
    window: TimeWindow | None
    count: int | None
    concepts: tuple[str, ...]
    #: Words no command knows (not filler, not a concept): what the question says beyond us.
    unknown: tuple[str, ...] = ()
    #: Provisioning actions the question names (`creates` -> Create).
    actions: tuple[str, ...] = ()
    #: It names something this bot does not read (the vocabulary's `elsewhere`).
    elsewhere: bool = False
    #: Its first word asks the bot to change something (`delete ...`).
    imperative: bool = False


@dataclass(frozen=True, slots=True)
class Profile:
    command: Command
    concepts: frozenset[str]
    examples: tuple[frozenset[str], ...]
    keywords: frozenset[str]
    #: Concepts a parameter takes (an action filter): neither for nor against the command.
    neutral: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Score:
    command: Command
    value: float


class Matcher:
    """The catalog, prepared for matching questions to commands."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        texts = [t for c in catalog.commands for t in (*c.examples, *c.keywords, c.title)]
        self.lexicon = Lexicon.build(catalog.vocabulary, extra=texts)
        empty = AliasTable({}, (), self.lexicon.common)
        self.profiles = tuple(self._profile(command, empty) for command in catalog.commands)
        self.vocabulary = frozenset(c for p in self.profiles for c in p.concepts)
        total = len(self.profiles)
        self.idf = {
            concept: math.log(1 + total / sum(concept in p.concepts for p in self.profiles))
            for concept in self.vocabulary
        }

    def read(self, text: str, aliases: AliasTable, *, now: datetime) -> Reading:
        """Names first (so an app called `Last Day` stays a name), then time, count, concepts."""
        found = scan(text, aliases)
        corrected = BARRIER.join(
            " ".join(self.lexicon.correct(word) for word in words(piece))
            for piece in found.rest.split("|")
        )
        window = find_window(corrected, now=now, limit=self.catalog.limits.max_window)
        if window is not None:
            corrected = f"{corrected[: window.start]}{BARRIER}{corrected[window.end :]}"
        count, corrected = _count(corrected)
        sequence = [w for piece in corrected.split("|") for w in [*words(piece), ""]]
        read = self.lexicon.concepts(sequence)
        concepts = tuple(c for c in read if c in self.vocabulary)
        unknown = tuple(c for c in read if c not in self.vocabulary and not c.isdigit())
        named = self.catalog.vocabulary.actions
        actions = tuple(dict.fromkeys(named[c] for c in concepts if c in named))
        vocabulary = self.catalog.vocabulary
        first = next((w for w in words(found.rest) if w not in _POLITE), "")
        return Reading(
            found,
            window.window if window else None,
            count,
            concepts,
            unknown,
            actions,
            elsewhere=ELSEWHERE in read,
            imperative=first in vocabulary.commands_to_refuse,
        )

    def profile(self, command: Command) -> Profile:
        return next(p for p in self.profiles if p.command is command)

    def rank(self, reading: Reading) -> list[Score]:
        """Every command with its score, best first."""
        asked = set(reading.concepts)
        weight = sum(self.idf[c] for c in asked)
        kinds = {mention.kind for mention in reading.scan.mentions}
        scores = [
            Score(
                p.command,
                self._score(p, asked - p.neutral, weight - self._weight(asked & p.neutral))
                + _entity_fit(p.command, kinds)
                + (_FITS if reading.count is not None and _counts(p.command) else 0.0),
            )
            for p in self.profiles
        ]
        return sorted(scores, key=lambda s: -s.value)

    def _score(self, profile: Profile, asked: set[str], weight: float) -> float:
        if not asked or weight <= 0:
            return 0.0
        explained = self._weight(asked & profile.concepts) / weight
        phrasing = max(
            (self._weight(asked & ex) / self._weight(ex) for ex in profile.examples if ex),
            default=0.0,
        )
        keywords = (
            self._weight(asked & profile.keywords) / self._weight(profile.keywords)
            if profile.keywords
            else 0.0
        )
        return _QUESTION * explained + _PHRASING * phrasing + _KEYWORDS * keywords

    def _weight(self, concepts: frozenset[str] | set[str]) -> float:
        return sum(self.idf.get(c, 0.0) for c in concepts)

    def _profile(self, command: Command, aliases: AliasTable) -> Profile:
        examples = tuple(
            self._concepts(_PLACEHOLDER.sub("|", e), aliases) for e in command.examples
        )
        keywords = frozenset(c for k in command.keywords for c in self.lexicon.concepts(words(k)))
        title = self._concepts(command.title, aliases)
        acts = any(spec.kind == "action" for spec in command.parameters.values())
        actions = frozenset(self.catalog.vocabulary.actions) if acts else frozenset()
        return Profile(
            command=command,
            concepts=frozenset().union(*examples, keywords, title),
            examples=examples,
            keywords=keywords,
            neutral=actions,
        )

    def _concepts(self, text: str, aliases: AliasTable) -> frozenset[str]:
        found = find_window(text, now=_EXAMPLE_TIME, limit=self.catalog.limits.max_window)
        if found is not None:
            text = f"{text[: found.start]} | {text[found.end :]}"
        rest = scan(text, aliases).rest
        sequence = [w for piece in rest.split("|") for w in [*words(piece), ""]]
        return frozenset(c for c in self.lexicon.concepts(sequence) if c)


def _count(text: str) -> tuple[int | None, str]:
    """`top 5` -> 5; only the number is cut out (`top` still says what is asked)."""
    for pattern in _COUNT:
        match = pattern.search(text)
        if match is not None:
            return int(match[1]), f"{text[: match.start(1)]}{BARRIER}{text[match.end(1) :]}"
    return None, text


def _counts(command: Command) -> bool:
    return any(spec.kind == "count" for spec in command.parameters.values())


def _entity_fit(command: Command, kinds: set[MentionKind]) -> float:
    """Names the question mentions: for a command that can use them, against one that cannot."""
    accepted = {spec.kind for spec in command.parameters.values()}
    bonus = sum(_FITS for kind in kinds if accepted & set(ACCEPTS[kind]))
    misfit = sum(
        _MISFITS for kind in kinds if kind != "quoted" and not accepted & set(ACCEPTS[kind])
    )
    return min(bonus, _MOST_BONUS) - misfit
