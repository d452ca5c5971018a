"""KQL as a list of tokens that concatenate back to the text, for token-level rewrites.

duckdb-kql's own ANTLR lexer splits the text, so string literals and comments are
single tokens that rewrites never look inside. Hidden tokens (spaces, comments)
are kept, so a rewrite changes only what it means to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from antlr4 import InputStream
from duckdb_kql._antlr.KqlLexer import KqlLexer

UNLEXED: Final = -1
#: Token types that open and close a nesting level.
OPENERS: Final = frozenset({KqlLexer.OPENPAREN, KqlLexer.OPENBRACKET, KqlLexer.OPENBRACE})
CLOSERS: Final = frozenset({KqlLexer.CLOSEPAREN, KqlLexer.CLOSEBRACKET, KqlLexer.CLOSEBRACE})


@dataclass(frozen=True, slots=True)
class Token:
    type: int
    text: str
    hidden: bool


def tokenize(kql: str) -> list[Token]:
    """Tokens whose texts concatenate back to `kql` exactly, even where it does not lex."""
    lexer = KqlLexer(InputStream(kql))
    lexer.removeErrorListeners()
    tokens: list[Token] = []
    consumed = 0
    for token in lexer.getAllTokens():
        end = token.stop + 1
        tokens.append(Token(token.type, kql[consumed:end], token.channel != 0))
        consumed = end
    if consumed < len(kql):
        tokens.append(Token(UNLEXED, kql[consumed:], True))
    return tokens


def text_of(tokens: Sequence[Token]) -> str:
    return "".join(token.text for token in tokens)


def synthetic(kind: int, text: str) -> Token:
    """A token a rewrite inserts."""
    return Token(kind, text, False)


def skip_hidden(tokens: Sequence[Token], position: int) -> int:
    """The first visible token at or after `position` (len(tokens) if none)."""
    while position < len(tokens) and tokens[position].hidden:
        position += 1
    return position


def previous_visible(tokens: Sequence[Token], position: int) -> int:
    """The last visible token before `position` (-1 if none)."""
    position -= 1
    while position >= 0 and tokens[position].hidden:
        position -= 1
    return position


def matching(tokens: Sequence[Token], opener: int) -> int | None:
    """The position of the bracket that closes the one at `opener`."""
    depth = 0
    for position in range(opener, len(tokens)):
        kind = tokens[position].type
        if kind in OPENERS:
            depth += 1
        elif kind in CLOSERS:
            depth -= 1
            if depth == 0:
                return position
    return None


def segments(tokens: Sequence[Token], start: int, end: int) -> list[tuple[int, int]]:
    """[first, last) spans between the top-level `|` of tokens[start:end]."""
    spans: list[tuple[int, int]] = []
    depth = 0
    first = start
    for position in range(start, end):
        kind = tokens[position].type
        if kind in OPENERS:
            depth += 1
        elif kind in CLOSERS:
            depth -= 1
        elif kind == KqlLexer.BAR and depth == 0:
            spans.append((first, position))
            first = position + 1
    spans.append((first, end))
    return spans


def statement_end(tokens: Sequence[Token], start: int) -> int:
    """Where the pipeline starting at `start` ends: its closing bracket, `;` or the end."""
    depth = 0
    for position in range(start, len(tokens)):
        kind = tokens[position].type
        if kind in OPENERS:
            depth += 1
        elif kind in CLOSERS:
            if depth == 0:
                return position
            depth -= 1
        elif kind == KqlLexer.SEMICOLON and depth == 0:
            return position
    return len(tokens)
