"""Someone who is not an alert admin, in the same team, is politely refused and changes
nothing: a second Playground whose current user (Megan Bowen) is not an admin."""

from __future__ import annotations

import asyncio
import sqlite3

from bot import messages
from bot.playground.events import Event
from tests.e2e.teams import SPREAD_SECONDS, TeamsWorld, alert_id, is_alert_card


async def test_a_member_who_is_not_an_admin_is_refused_and_the_card_is_unchanged(
    teams_with_member: TeamsWorld,
) -> None:
    teams = teams_with_member
    admin, member = teams.admin, teams.member
    await teams.subscribe_channel()  # by the admin, at the other Playground
    # Megan may read: her `help` in the same channel makes the bot post there through
    # her Playground from now on (it keeps the latest reference of each conversation).
    await member.client.install(member.ids.team_id)
    await member.say(member.ids.channel_id, "help")
    await teams.start_alerting()
    card = await member.events.wait_for(is_alert_card, within=SPREAD_SECONDS + 30, what="a card")
    number = alert_id(card)
    assert number is not None
    await member.events.settle(quiet=1.0)
    before = {seat.name: len(seat.events.events) for seat in (admin, member)}

    answer = await member.client.press(card, "Acknowledge")
    assert answer.get("type") == "application/vnd.microsoft.activity.message", answer
    assert answer.get("value") == messages.refused("ack")

    typed = await member.say(member.ids.channel_id, f"ack {number}")
    assert typed.text == messages.refused("ack"), typed.describe()

    await asyncio.sleep(1.5)  # time enough for an edit to arrive, if one were made
    for seat in (admin, member):
        edits = [e for e in seat.events.events[before[seat.name] :] if _is_edit(e)]
        assert not edits, f"{seat.name}: {[e.describe() for e in edits]}"
    assert _status(teams, number) == "firing"
    refusal = ("ack", number, "refused: not an alert admin")
    assert _audited(teams, member.ids.me.aad_object_id) == [refusal, refusal]


def _is_edit(event: Event) -> bool:
    return event.action == "updateMessage"


def _status(teams: TeamsWorld, number: int) -> str:
    with sqlite3.connect(teams.workdir / "alertbot.db") as db:
        (status,) = db.execute("SELECT status FROM alerts WHERE id = ?", (number,)).fetchone()
    return str(status)


def _audited(teams: TeamsWorld, person: str) -> list[tuple[str, int, str]]:
    """(action, alert id, detail) of what the audit log holds for `person`."""
    with sqlite3.connect(teams.workdir / "alertbot.db") as db:
        rows = db.execute(
            "SELECT action, alert_id, detail FROM audit_log WHERE actor = ? ORDER BY id", (person,)
        ).fetchall()
    return [(str(action), int(alert), str(detail)) for action, alert, detail in rows]
