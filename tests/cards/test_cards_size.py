"""Every card stays under the size limit, however big its input, and says what it cut."""

from __future__ import annotations

import pytest

from bot.channels.teams.cards import (
    MAX_CARD_BYTES,
    CardRenderer,
    CardTooLargeError,
    card_bytes,
    render,
)
from bot.command_help import COMMANDS
from bot.views import help_view
from bot.views.model import CardView
from tests.cards.conftest import texts
from tests.cards.samples import huge_views, sample_views

SAMPLES = sample_views()
HUGE = huge_views()


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_ordinary_cards_fit_without_cutting(renderer: CardRenderer, name: str) -> None:
    view = SAMPLES[name]
    card = renderer.render(view)
    assert card == renderer.bind(view)
    assert card_bytes(card) <= MAX_CARD_BYTES


@pytest.mark.parametrize("name", sorted(HUGE))
def test_huge_inputs_are_cut_to_fit(renderer: CardRenderer, name: str) -> None:
    view: CardView = HUGE[name]
    assert card_bytes(renderer.render(view)) <= MAX_CARD_BYTES


def test_the_biggest_ones_are_cut_by_the_renderer_not_only_by_the_builders(
    renderer: CardRenderer,
) -> None:
    for name in ("huge-alert", "huge-query", "huge-rules"):
        assert card_bytes(renderer.bind(HUGE[name])) > MAX_CARD_BYTES


def test_cut_cards_say_what_was_left_out(renderer: CardRenderer) -> None:
    alert = texts(renderer.render(HUGE["huge-alert"]))
    assert "…and 99990 more rows" in alert
    assert "more lines" in alert
    assert "…and 975 more alerts" in texts(renderer.render(HUGE["huge-alerts"]))
    assert "more rules" in texts(renderer.render(HUGE["huge-rules"]))
    query = texts(renderer.render(HUGE["huge-query"]))
    assert "2000 rows" in query
    assert "more rows" in query
    assert "Not shown: Column8" in query


def test_a_card_that_cannot_shrink_enough_is_an_error() -> None:
    tiny = CardRenderer(max_bytes=500)
    with pytest.raises(CardTooLargeError, match="HelpCardView"):
        tiny.render(help_view(COMMANDS))


def test_a_view_seen_again_gets_the_card_kept_for_it() -> None:
    renderer = CardRenderer()
    first = {name: renderer.render(view) for name, view in SAMPLES.items()}
    again = {name: renderer.render(view.model_copy(deep=True)) for name, view in SAMPLES.items()}
    kept = list(SAMPLES)[-render.CACHED_CARDS :]
    assert all(again[name] is first[name] for name in kept)  # an equal view: the same card
    assert all(again[name] == renderer.bind(SAMPLES[name]) for name in SAMPLES)
    assert len(renderer._cards) <= render.CACHED_CARDS
    changed = SAMPLES["alert-firing"].model_copy(update={"title": "Another title"})
    assert renderer.render(changed) == renderer.bind(changed) != first["alert-firing"]
