"""The digest card's sections beside the jobs, on Teams (cards/digest.json) and Slack: each
top error's hint, open alerts by severity with their status, governance changes as facts,
one quiet line each when there is nothing, none of them on one job's `health`; and what is
cut first when the message must shrink ("…and N more"). The size and the Adaptive Cards
parser checks of these samples run in test_cards_size and test_cards_validator."""

from __future__ import annotations

from typing import Any

from bot.channels.slack.render import SlackRenderer
from bot.channels.teams.cards import MAX_CARD_BYTES, CardRenderer, card_bytes
from bot.messages import digest_no_governance_changes, digest_no_open_alerts
from bot.views.digest import DigestView
from tests.cards.conftest import nodes, texts
from tests.cards.digest_samples import hints
from tests.cards.samples import huge_views, sample_views

SLACK = SlackRenderer()


def digest(name: str) -> DigestView:
    views = {**sample_views(), **huge_views()}
    view = views[name]
    assert isinstance(view, DigestView)
    return view


def facts(card: dict[str, Any]) -> dict[str, str]:
    return {n["title"]: n["value"] for n in nodes(card) if "title" in n and "value" in n}


def slack_text(view: DigestView) -> str:
    message = SLACK.render(view)
    assert message.problems() == []
    return "\n".join(
        str(b.get("text", {}).get("text", "")) + "".join(e["text"] for e in b.get("elements", []))
        for b in message.blocks
    )


def test_the_teams_card_has_hints_open_alerts_and_governance(renderer: CardRenderer) -> None:
    card = renderer.render(digest("digest"))
    text = texts(card)
    assert f"Unauthorized: \n{hints()('Unauthorized')}" in text
    assert "Open alerts (8)" in text
    assert text.index("Sev1 Error") < text.index("Sev2 Warning") < text.index("Sev3")
    assert "  5 open" in text
    assert "…and 2 more alerts" in text  # 5 of severity 1, 3 listed
    assert "acknowledged by Alex Wilber" in text
    assert "snoozed until" in text
    assert "Governance changes" in text
    shown = facts(card)
    assert list(shown)[:2] == ["Cross-tenant settings changed (5)", "Access reviews deleted (4)"]
    assert shown["Access reviews deleted (4)"].startswith(
        "Latest: Guest access review - Fabrikam, by tom.brown@woodgrove.com, {{TIME("
    )
    assert digest_no_open_alerts() not in text
    assert digest_no_governance_changes() not in text


def test_fact_sets_and_text_wrap_at_450_px(renderer: CardRenderer) -> None:
    card = renderer.render(digest("digest"))
    blocks = [n for n in nodes(card) if n.get("type") == "TextBlock"]
    assert all(block.get("wrap") for block in blocks if len(str(block["text"])) > 40)
    assert [n for n in nodes(card) if n.get("type") == "FactSet"]
    assert not [n for n in nodes(card) if n.get("type") == "ColumnSet"]


def test_quiet_sections_are_one_line_each(renderer: CardRenderer) -> None:
    view = digest("digest-quiet")
    text = texts(renderer.render(view))
    assert "Open alerts (0)" in text
    assert digest_no_open_alerts() in text
    assert digest_no_governance_changes() in text
    assert not facts(renderer.render(view))
    slack = slack_text(view)
    assert digest_no_open_alerts() in slack
    assert digest_no_governance_changes() in slack


def test_one_jobs_health_has_none_of_them(renderer: CardRenderer) -> None:
    text = texts(renderer.render(digest("health-job")))
    assert "Open alerts" not in text
    assert "Governance" not in text
    assert "Cycles" in text


def test_slack_lists_the_same_sections() -> None:
    text = slack_text(digest("digest"))
    assert f"*App 0* `Unauthorized` ×25: {hints()('Unauthorized')}" in text
    assert "*Open alerts* (8)" in text
    assert "Sev1 · Error: 5 open" in text
    assert "_…and 2 more alerts_" in text
    assert "acknowledged by Alex Wilber" in text
    assert "• *Cross-tenant settings changed*: 5 · latest Northwind Traders by " in text


def test_shrinking_cuts_jobs_and_chart_then_alerts_then_governance() -> None:
    view = digest("huge-sections")
    assert view.governance is not None
    assert view.open_alerts is not None
    assert len(view.governance.changes) == 8
    assert view.governance.more_note == "…and 292 more kinds of change"
    steps = [view]
    while (smaller := steps[-1].shrink()) is not None:
        steps.append(smaller)
    alerts_cut = next(i for i, v in enumerate(steps) if v.open_alerts != view.open_alerts)
    changes_cut = next(i for i, v in enumerate(steps) if v.governance != view.governance)
    assert steps[alerts_cut - 1].chart is None
    assert alerts_cut < changes_cut
    last = steps[-1]
    assert last.open_alerts is not None
    assert last.governance is not None
    assert all(len(g.alerts) == 1 for g in last.open_alerts.groups)
    assert all(g.more_note.startswith("…and ") for g in last.open_alerts.groups)
    assert len(last.governance.changes) == 1
    assert last.governance.more_note == "…and 299 more kinds of change"


def test_a_tight_limit_keeps_the_sections_with_their_counts() -> None:
    tight = CardRenderer(max_bytes=12_000)
    card = tight.render(digest("huge-sections"))
    assert card_bytes(card) <= 12_000 < MAX_CARD_BYTES
    text = texts(card)
    assert "Open alerts (3000)" in text
    assert "more alerts" in text
    assert "Governance changes" in text


def test_teams_says_since_when_and_by_whom_a_job_is_held(renderer: CardRenderer) -> None:
    view = digest("digest-held")
    card = renderer.render(view)
    text = texts(card)
    paused = next(job for job in view.jobs if job.status == "paused")
    assert paused.state_since is not None
    stamp = paused.state_since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"Paused since {{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}} by " in text
    assert "by tom.brown@woodgrove.com" in text
    assert "Quarantined since " in text
    assert "by Azure AD Provisioning Service" in text
    assert "Deleted since " in text
    assert "none in this period" in text  # the deleted app logged nothing
    assert "Silent" not in text  # App 1 logged nothing for 30 h: it is paused, not silent
    assert text.count(" since ") == 3  # App 3 was restarted: no line for it
    runs = [n for n in nodes(card) if n.get("type") == "TextRun"]
    colors = {run["text"].split()[0]: run.get("color") for run in runs if " since " in run["text"]}
    assert colors == {"Paused": "Warning", "Quarantined": "Attention", "Deleted": "Warning"}


def test_slack_lists_held_jobs_with_their_status_and_a_line_each() -> None:
    view = digest("digest-held")
    message = SLACK.render(view)
    assert message.problems() == []
    text = slack_text(view)
    assert "*App 1* paused since <!date^" in text
    assert "|2026-05-03 04:50 UTC> by tom.brown@woodgrove.com" in text
    assert "*App 2* quarantined since <!date^" in text
    assert "*Retired App* deleted since <!date^" in text
    table = next(b for b in message.blocks if b.get("type") == "table")
    statuses = [row[1]["text"] for row in table["rows"][1:]]
    assert statuses == ["Quarantined", "Paused", "Deleted", "Healthy", "Healthy"]
