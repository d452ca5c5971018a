"""Words of a question as the catalog's vocabulary reads them: typos fixed, synonyms joined. Pure.

`Lexicon` is built once from the catalog. It splits text into words, corrects a word
that is not in the vocabulary to the closest one that is (rapidfuzz, a small edit
distance), and maps words and phrases to their canonical concept (`failed`,
`errors` -> `failure`; `security info`, `mfa` -> `securityinfo`), dropping filler.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from rapidfuzz import fuzz, process

from bot.ask.model import Vocabulary

#: ISO dates stay one word (`since 2026-11-10`); elsewhere a hyphen separates words.
WORD: Final = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:t\d{2}:\d{2}(?::\d{2})?z?)?|[a-z0-9]+(?:[.'’][a-z0-9]+)*"
)
#: Words the time grammar reads: known, so a typo in them is corrected too.
TIME_WORDS: Final = (
    "last", "past", "previous", "since", "today", "yesterday", "week", "weeks", "weekend",
    "month", "months", "day", "days", "hour", "hours", "minute", "minutes", "fortnight",
    "morning", "ago", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
    "sunday", "couple", "few", "two", "three", "four", "five", "seven", "twelve", "thirty",
    "january", "february", "march", "april", "june", "july", "august", "september", "october",
    "november", "december", "quarter", "between", "after", "before", "until", "through", "noon",
    "midday", "midnight",
)  # fmt: skip
#: A word this long or longer may be corrected to a known word this similar (0-100).
_MIN_TYPO_LENGTH: Final = 5
_TYPO_SCORE: Final = 80.0
_MAX_PHRASE: Final = 7


def words(text: str) -> list[str]:
    """Lower-case words; `user's` -> `user`."""
    found = WORD.findall(text.lower().replace("’", "'"))
    return [word.removesuffix("'s") for word in found]


def squash(text: str) -> str:
    """Letters and digits only: `Service Now` and `servicenow` are the same."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The vocabulary, ready to read words with."""

    #: Word sequence -> canonical concept, or "" for filler.
    phrases: dict[tuple[str, ...], str]
    #: Every word the bot knows (for typo correction), sorted.
    known: tuple[str, ...]
    known_set: frozenset[str]
    #: Words that carry no name: filler, concepts and their variants, time words.
    common: frozenset[str]

    @classmethod
    def build(cls, vocabulary: Vocabulary, extra: Iterable[str] = ()) -> Lexicon:
        """From the vocabulary; `extra` words (examples, titles) are known too."""
        phrases: dict[tuple[str, ...], str] = {}
        for canonical, variants in vocabulary.synonyms.items():
            for variant in (canonical, *variants):
                phrases[tuple(words(variant))] = canonical
        for stop in vocabulary.stop_words:
            phrases.setdefault(tuple(words(stop)), "")
        vocabulary_words = {w for phrase in phrases for w in phrase}
        known = vocabulary_words | set(TIME_WORDS) | {w for text in extra for w in words(text)}
        common = vocabulary_words | set(TIME_WORDS)
        spelled = tuple(sorted(w for w in known if not w.isdigit()))
        return cls(
            phrases=phrases,
            known=spelled,
            known_set=frozenset(spelled),
            common=frozenset(common | set(vocabulary.generic_app_words)),
        )

    def correct(self, word: str) -> str:
        """The known word `word` was probably meant as (itself if known or unsure)."""
        if len(word) < _MIN_TYPO_LENGTH or word in self.known_set:
            return word
        if any(char.isdigit() for char in word):
            return word
        best = process.extractOne(word, self.known, scorer=fuzz.ratio, score_cutoff=_TYPO_SCORE)
        return str(best[0]) if best else word

    def concepts(self, sequence: Sequence[str]) -> list[str]:
        """Canonical concepts of a word sequence (longest phrase first), filler dropped.

        Words the vocabulary does not know are kept as they are; the matcher ignores
        the ones no command uses."""
        result: list[str] = []
        position = 0
        while position < len(sequence):
            concept, used = self._longest(sequence, position)
            if concept:
                result.append(concept)
            position += used
        return result

    def _longest(self, sequence: Sequence[str], start: int) -> tuple[str, int]:
        for length in range(min(_MAX_PHRASE, len(sequence) - start), 0, -1):
            phrase = tuple(sequence[start : start + length])
            if phrase in self.phrases:
                return self.phrases[phrase], length
        word = sequence[start]
        singular = (word[:-1],) if word.endswith("s") else None
        if singular and singular in self.phrases:
            return self.phrases[singular], 1
        return word, 1
