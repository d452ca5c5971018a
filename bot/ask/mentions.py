"""Find what a question names: JobIds, UPNs, object ids, quoted names, and the workspace's names.

Pure. Ids and quoted text are found by their shape first; then runs of words are
compared with the names of the EntityIndex (an app's name or a word only it has, a
job template's nickname, a group, a workflow, an error code), exactly or with a small
typo (rapidfuzz). What was found is cut out of the text, leaving a barrier so that no
phrase is read across it; the rest is what the question asks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from rapidfuzz import fuzz, process

from bot.ask.entities import EntityIndex, Named
from bot.ask.model import EntityKind, Vocabulary
from bot.ask.words import squash, words

MentionKind = EntityKind | Literal["upn", "guid", "quoted"]

#: Stands where something was cut out; no word or time phrase spans it.
BARRIER: Final = " | "
_GUID: Final = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_SHAPES: Final[tuple[tuple[MentionKind, re.Pattern[str]], ...]] = (
    ("job", re.compile(rf"\b[A-Za-z0-9]+\.[0-9a-fA-F]{{32}}\.{_GUID}\b")),
    # Starts only where a run of local-part characters starts, and never gives characters
    # back (possessive): one pass over the text, however long the run without an `@`.
    (
        "upn",
        re.compile(
            r"(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]++@[A-Za-z0-9-]++(?:\.[A-Za-z0-9-]++)+"
        ),
    ),
    ("guid", re.compile(rf"\b{_GUID}\b")),
    ("quoted", re.compile(r"\"([^\"]{1,200})\"|“([^”]{1,200})”|(?<!\w)'([^']{1,200})'(?!\w)")),
)
#: `<at>Name</at>` (a Teams mention: no `<` inside, bounded) or `@name` that is no e-mail
#: address; possessive, so an unclosed `<at>` or a long `@word...@` costs one pass.
_CHAT_MENTION: Final = re.compile(r"<at>[^<]{0,256}</at>|(?:(?<=\s)|^)@[\w.-]++(?!@)")
_MAX_ALIAS_WORDS: Final = 6
_FUZZY_MIN_LENGTH: Final = 6
_FUZZY_SCORE: Final = 85.0
_SUBPHRASE_MIN_LENGTH: Final = 8
_DISTINCT_WORD_MIN_LENGTH: Final = 4
_NAMING_WORDS: Final = frozenset({"job", "jobs", "app", "application", "connector"})
#: `7d`, `24h`, `2`: never part of a misspelt name.
_TIME_LIKE: Final = re.compile(r"\d+[a-z]{0,7}")


@dataclass(frozen=True, slots=True)
class Mention:
    kind: MentionKind
    #: As typed (for ids and quoted text, the value itself).
    text: str
    #: The index entries it may mean; several when it is ambiguous (`scim`).
    candidates: tuple[Named, ...] = ()


@dataclass(frozen=True, slots=True)
class Scan:
    """The mentions of a question, and its remaining words with barriers."""

    mentions: tuple[Mention, ...]
    rest: str
    #: A word called a job or app (`the zendesk job`) that no known name matched.
    unknown_name: str | None = None

    def of(self, *kinds: MentionKind) -> tuple[Mention, ...]:
        return tuple(mention for mention in self.mentions if mention.kind in kinds)


@dataclass(frozen=True, slots=True)
class AliasTable:
    """Squashed alias -> the entries it names; built from an EntityIndex and the vocabulary."""

    targets: dict[str, tuple[Named, ...]]
    #: Aliases long enough to be matched with a typo.
    fuzzy_keys: tuple[str, ...]
    common: frozenset[str]

    @classmethod
    def build(
        cls, index: EntityIndex, vocabulary: Vocabulary, common: frozenset[str]
    ) -> AliasTable:
        pairs: list[tuple[str, Named]] = [
            *_job_aliases(index.of("job"), vocabulary, common),
            *(
                (alias, named)
                for kind in ("group", "workflow", "extension", "error_code", "user")
                for alias, named in _name_aliases(index.of(kind), common)
            ),
        ]
        targets: dict[str, dict[Named, None]] = defaultdict(dict)
        for alias, named in pairs:
            if alias:
                targets[alias][named] = None
        fuzzy = tuple(sorted(k for k in targets if len(k) >= _FUZZY_MIN_LENGTH))
        return cls({k: tuple(v) for k, v in targets.items()}, fuzzy, common)

    def _may_be_misspelt(self, sequence: Sequence[str]) -> bool:
        return _edges_are_names(sequence, self.common)

    def lookup(self, sequence: Sequence[str]) -> tuple[Named, ...]:
        """What a run of words names, exactly or with a typo; () if nothing."""
        key = squash("".join(sequence))
        if key in self.targets:
            return self.targets[key]
        if len(key) < _FUZZY_MIN_LENGTH or not self._may_be_misspelt(sequence):
            return ()
        best = process.extractOne(
            key, self.fuzzy_keys, scorer=fuzz.ratio, score_cutoff=_FUZZY_SCORE
        )
        return self.targets[str(best[0])] if best else ()


def _edges_are_names(sequence: Sequence[str], common: frozenset[str]) -> bool:
    """A misspelt name starts and ends with a word that is no filler, concept or time."""
    return all(
        word not in common and not _TIME_LIKE.fullmatch(word)
        for word in (sequence[0], sequence[-1])
    )


def scan(text: str, aliases: AliasTable) -> Scan:
    """Every mention in `text`, and what is left of it."""
    working = _CHAT_MENTION.sub(" ", text)
    mentions: list[Mention] = []
    for kind, shape in _SHAPES:
        found, working = _cut(shape, working)
        mentions += [_shaped(kind, value, aliases) for value in found]
    named, rest = _named(working, aliases)
    return Scan(tuple(mentions + named), rest, _unknown_name(rest, aliases.common))


def _cut(shape: re.Pattern[str], text: str) -> tuple[list[str], str]:
    values = [next((g for g in match.groups() if g), match[0]) for match in shape.finditer(text)]
    return [v.strip() for v in values if v.strip()], shape.sub(BARRIER, text)


def _shaped(kind: MentionKind, value: str, aliases: AliasTable) -> Mention:
    if kind == "job":
        known = [n for named in aliases.targets.values() for n in named if n.id == value]
        return Mention("job", value, tuple(known[:1]) or (Named("job", value, value),))
    if kind == "quoted":
        return Mention("quoted", value, aliases.lookup(words(value)))
    return Mention(kind, value.lower() if kind == "upn" else value)


def _named(text: str, aliases: AliasTable) -> tuple[list[Mention], str]:
    """Runs of words that name something in the index, longest first."""
    pieces = [words(piece) for piece in text.split("|")]
    found: list[tuple[int, int, int, Mention]] = []
    for number, piece in enumerate(pieces):
        taken = [False] * len(piece)
        for length in range(min(_MAX_ALIAS_WORDS, len(piece)), 0, -1):
            for start in range(len(piece) - length + 1):
                if any(taken[start : start + length]):
                    continue
                candidates = aliases.lookup(piece[start : start + length])
                if candidates:
                    taken[start : start + length] = [True] * length
                    mention = Mention(
                        candidates[0].kind, " ".join(piece[start : start + length]), candidates
                    )
                    found.append((number, start, length, mention))
        pieces[number] = [BARRIER.strip() if t else w for w, t in zip(piece, taken, strict=True)]
    found.sort(key=lambda item: (item[0], item[1]))
    rest = BARRIER.join(" ".join(piece) for piece in pieces)
    return [mention for *_, mention in found], rest


def _unknown_name(rest: str, common: frozenset[str]) -> str | None:
    """`job zendesk`, `the zendesk app`: a name we do not know."""
    sequence = words(rest)
    for index, word in enumerate(sequence):
        if word not in _NAMING_WORDS:
            continue
        for neighbour in (
            sequence[index + 1 : index + 2],
            sequence[index - 1 : index] if index else [],
        ):
            if neighbour and neighbour[0] not in common and not neighbour[0].isdigit():
                return neighbour[0]
    return None


def _job_aliases(
    jobs: Sequence[Named], vocabulary: Vocabulary, common: frozenset[str]
) -> Iterable[tuple[str, Named]]:
    """A job by its app's name, a word only its app's name has, or its template's nicknames."""
    owners: dict[str, set[str]] = defaultdict(set)
    for job in jobs:
        for word in words(job.name):
            owners[word].add(job.id)
    for job in jobs:
        yield squash(job.name), job
        for word in words(job.name):
            distinct = len(owners[word]) == 1 and word not in common
            if distinct and len(word) >= _DISTINCT_WORD_MIN_LENGTH:
                yield squash(word), job
        for nickname in vocabulary.job_templates.get(job.template, ()):
            yield squash(nickname), job
        for nickname in vocabulary.app_nicknames.get(job.name, ()):
            yield squash(nickname), job


def _name_aliases(entries: Sequence[Named], common: frozenset[str]) -> Iterable[tuple[str, Named]]:
    """A name whole, or a run of 2+ of its words that no other name has and that says something."""
    counts: dict[str, int] = defaultdict(int)
    phrases: dict[Named, set[str]] = {}
    for entry in entries:
        sequence = words(entry.name)
        phrases[entry] = {
            squash("".join(sequence[i:j]))
            for i in range(len(sequence))
            for j in range(i + 2, len(sequence) + 1)
            if any(word not in common for word in sequence[i:j])
        }
        for phrase in phrases[entry]:
            counts[phrase] += 1
    for entry in entries:
        yield squash(entry.name), entry
        for phrase in phrases[entry]:
            if counts[phrase] == 1 and len(phrase) >= _SUBPHRASE_MIN_LENGTH:
                yield phrase, entry
