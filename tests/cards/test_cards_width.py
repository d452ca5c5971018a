"""Every sample card fits the about 450 px Teams gives a card in a channel.

The overlaps seen in the screenshots (tests/cards/screenshots.py), said as structure:
tables with few columns and no word wider than its column, wide query results as one
list of facts per row, the buttons in one row, and the help card's plain-language
examples taken from the question catalog.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import pytest
import yaml

from bot.channels.teams.cards import CardRenderer
from bot.channels.teams.cards.data import MAX_TABLE_COLUMNS
from bot.command_help import COMMANDS
from bot.views import help_view
from tests.cards.conftest import nodes, texts
from tests.cards.samples import answer_views, sample_views

#: The card's inner width in a Teams channel on a laptop, in px, and the width of one
#: character of the default font (14 px Segoe UI averages about 7 px; digits 7.7).
CARD_PX: Final = 420
CHAR_PX: Final = 8
#: A button's padding and the gap to the next one, in px.
BUTTON_PX: Final = 28
#: Where a browser may break a line: spaces and after hyphens.
_WORD: Final = re.compile(r"[^\s-]+")
CATALOG: Final = Path(__file__).resolve().parents[2] / "config" / "questions"


def all_cards(renderer: CardRenderer) -> dict[str, dict[str, Any]]:
    return {name: renderer.render(v) for name, v in {**sample_views(), **answer_views()}.items()}


def _cell_texts(cell: dict[str, Any]) -> list[str]:
    return [str(n["text"]) for n in nodes(cell) if n.get("type") in ("TextBlock", "TextRun")]


def test_no_table_has_more_columns_than_fit(renderer: CardRenderer) -> None:
    for name, card in all_cards(renderer).items():
        for table in (n for n in nodes(card) if n.get("type") == "Table"):
            assert len(table["columns"]) <= MAX_TABLE_COLUMNS + 1, name


def test_no_word_in_a_table_is_wider_than_its_column(renderer: CardRenderer) -> None:
    for name, card in all_cards(renderer).items():
        for table in (n for n in nodes(card) if n.get("type") == "Table"):
            widths = [float(c.get("width", 1)) for c in table["columns"]]
            for row in table["rows"]:
                for cell, width in zip(row["cells"], widths, strict=True):
                    column_px = CARD_PX * width / sum(widths)
                    for word in _WORD.findall(" ".join(_cell_texts(cell))):
                        assert len(word) * CHAR_PX <= column_px, (name, word)


def test_a_wide_answer_is_a_fact_list_per_row(renderer: CardRenderer) -> None:
    card = renderer.render(answer_views()["answer-wide"])
    assert not [n for n in nodes(card) if n.get("type") == "Table"]
    text = texts(card)
    assert text.count("TargetUPN: ") == 3  # one list per row, each column named
    assert "adele.vance.long-name-0@contoso-identity.onmicrosoft.com" in text
    narrow = renderer.render(answer_views()["answer-narrow"])
    assert [n for n in nodes(narrow) if n.get("type") == "Table"]


@pytest.mark.parametrize("name", ["alert-firing", "alert-acknowledged", "alert-snoozed"])
def test_the_buttons_fit_in_one_row(renderer: CardRenderer, name: str) -> None:
    card = all_cards(renderer)[name]
    primary = [a["title"] for a in card["actions"] if a.get("mode") != "secondary"]
    assert sum(len(t) * CHAR_PX + BUTTON_PX for t in primary) <= CARD_PX, primary


def test_help_mentions_plain_language_questions_the_catalog_knows(
    renderer: CardRenderer,
) -> None:
    examples = {
        example.lower()
        for path in sorted(CATALOG.glob("*.yaml"))
        for question in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("commands", [])
        for example in question.get("examples", [])
    }
    card = renderer.render(help_view(COMMANDS))
    text = texts(card)
    assert "ask in your own words" in text
    shown = text.split("for example:\n", 1)[1].split("\nhelp\n", 1)[0].splitlines()
    assert len(shown) >= 3
    assert {line.lower() for line in shown} <= examples, shown
