"""Is this a follow-up? "and for Salesforce?", "same for last week", "what about workday". Pure.

A follow-up says only what changes (a name, a time range, a count), after a word that
continues the previous question (`and`, `same`, `what about`) or with nothing else in it.
bot.ask.understand then reuses the previous question's command and every value the
follow-up does not change.
"""

from __future__ import annotations

import re
from typing import Final

from bot.ask.matcher import Reading

#: Words that continue the previous question.
_CONTINUES: Final = re.compile(
    r"^\W*(?:and|also|plus|same|likewise|ditto|now|then|ok(?:ay)?|what about|how about"
    r"|what of|for)\b",
    re.IGNORECASE,
)
#: Words a follow-up may have beyond names and time.
_CONTINUING_WORDS: Final = frozenset(
    {"same", "likewise", "ditto", "plus", "also", "thing", "one", "instead", "too", "please"}
)


def is_follow_up(text: str, reading: Reading) -> bool:
    """It changes a name, the time range or a count, and asks nothing else."""
    changes = bool(reading.scan.mentions or reading.window or reading.count is not None)
    if not changes or any(word not in _CONTINUING_WORDS for word in reading.unknown):
        return False
    return not reading.concepts or _CONTINUES.search(text) is not None
