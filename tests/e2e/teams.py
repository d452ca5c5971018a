"""One test's Teams: the real bot process beside one or more Agents Playgrounds.

    teams = await TeamsWorld.open(tmp_path, playgrounds=("admin",))
    await teams.subscribe_channel()            # `@bot subscribe all` in the team channel
    await teams.start_alerting()               # restart with the rules scheduled
    card = await teams.admin.events.wait_for(is_alert_card, within=30, what="an alert card")

The bot is `python -m bot serve` on a temporary SQLite file, the demo workspace pinned
at DEMO_NOW, delivering to Teams, with no authentication (the Playground sends none) and
the admin Playground's user as its only admin. It starts with the rules loaded but not
scheduled, so a channel can subscribe before anything fires; `start_alerting` restarts
it with first runs spread over a few seconds. Each Playground works in a directory of
its own and listens on a port the system picks, so tests run in parallel.

When something fails, `report` returns every process's log and the events each
Playground showed, for the test's failure message.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp

from bot.playground.demo import demo_settings
from bot.playground.events import Event, EventStream, card_text
from bot.playground.playground import PlaygroundIds, PlaygroundProcess
from bot.playground.processes import BotServer, free_port, tail
from bot.settings import ENV_PREFIX
from tests.support.alerting import CATALOG, DEMO_NOW
from tests.support.playground import PlaygroundDriver

ROOT: Final = Path(__file__).parents[2]
LAUNCHER: Final = ROOT / "tools" / "playground" / "launch.sh"
CONFIGS: Final = {
    "admin": ROOT / "tools" / "playground" / "admin.yml",
    "member": ROOT / "tools" / "playground" / "member.yml",
}
PLAYGROUND_CLI: Final = ROOT / "node_modules" / "@microsoft" / "m365agentsplayground" / "cli.js"
#: The rules these tests run: two small ones that fire at DEMO_NOW (Sev3 and Sev2).
RULE_FILES: Final = ("access-reviews.yaml", "lifecycle-workflows.yaml")
SPREAD_SECONDS: Final = 3.0
#: Long enough for a loaded CI machine; a healthy run answers in well under a second.
ANSWER_SECONDS: Final = 20.0


@dataclass
class Seat:
    """One Playground and the person at it: its process, a client acting as its current
    user, and its event stream (connected before anything happens)."""

    name: str
    process: PlaygroundProcess
    client: PlaygroundDriver
    events: EventStream

    @property
    def ids(self) -> PlaygroundIds:
        return self.client.ids

    async def say(self, conversation_id: str, text: str) -> Event:
        """Post `text` (mentioning the bot outside the personal chat); the bot's answer."""
        self.events.mark()
        posted = await self.client.say(conversation_id, text)
        return await self.events.wait_for(
            lambda e: e.action == "createMessage" and e.conversation_id == posted.conversation_id,
            within=ANSWER_SECONDS,
            what=f"answer to {text!r} in {posted.conversation_id}",
        )


class TeamsWorld:
    def __init__(self, workdir: Path, bot: BotServer, seats: Mapping[str, Seat]) -> None:
        self.workdir = workdir
        self.bot = bot
        self.seats = dict(seats)

    @property
    def admin(self) -> Seat:
        return self.seats["admin"]

    @property
    def member(self) -> Seat:
        return self.seats["member"]

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        workdir: Path,
        *,
        playgrounds: Sequence[str] = ("admin",),
        rule_files: Sequence[str] = RULE_FILES,
    ) -> AsyncIterator[TeamsWorld]:
        """Start the Playgrounds and the bot (rules not scheduled); stop all on exit."""
        if not PLAYGROUND_CLI.exists():
            raise RuntimeError(f"{PLAYGROUND_CLI} is missing: run `make install` (npm ci)")
        rules = workdir / "rules"
        rules.mkdir(parents=True)
        for name in rule_files:
            shutil.copy(CATALOG / name, rules / name)
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}/api/messages"
        async with AsyncExitStack() as stack:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            seats: dict[str, Seat] = {}
            for name in playgrounds:
                process = PlaygroundProcess(
                    launcher=LAUNCHER,
                    workdir=workdir / f"playground-{name}",
                    config=CONFIGS[name],
                    bot_endpoint=endpoint,
                )
                stack.push_async_callback(process.stop)
                url = await process.start()
                client = await PlaygroundDriver.connect(url, session)
                events = await stack.enter_async_context(client.stream())
                seats[name] = Seat(name, process, client, events)
            admin_ids = seats[playgrounds[0]].client.ids
            settings = demo_settings(
                admin_ids,
                database=workdir / "alertbot.db",
                rules=rules,
                now=DEMO_NOW,
                spread_seconds=SPREAD_SECONDS,
            ) | {f"{ENV_PREFIX}RULES_RELOAD_SECONDS": "0"}
            bot = BotServer(workdir=workdir, port=port, settings=settings)
            stack.push_async_callback(bot.stop)
            world = cls(workdir, bot, seats)
            await bot.start(scheduler_enabled="false")
            yield world

    async def subscribe_channel(self, seat: Seat | None = None) -> Event:
        """Add the app to the team and `subscribe all` in its channel; the bot's answer."""
        seat = seat or self.admin
        await seat.client.install(seat.ids.team_id)
        return await seat.say(seat.ids.channel_id, "subscribe all")

    async def start_alerting(self) -> None:
        """Restart the bot with the rules scheduled (first runs within SPREAD_SECONDS)."""
        await self.bot.stop()
        await self.bot.start(scheduler_enabled="true")

    def report(self) -> str:
        """Everything that helps to see why a test failed."""
        parts = [f"=== bot logs\n{self.bot.log_text()}"]
        for seat in self.seats.values():
            shown = "\n".join(e.describe() for e in seat.events.events) or "(none)"
            parts.append(f"=== {seat.name} Playground events\n{shown}")
            parts.append(f"=== {seat.name} Playground log\n{seat.process.log_text()}")
        return "\n".join(parts)

    def summary(self) -> str:
        """The events each Playground showed and the end of the bot's log."""
        parts = [f"=== end of the bot's log\n{tail(self.bot.log_text(), 30)}"]
        for seat in self.seats.values():
            shown = "\n".join(e.describe() for e in seat.events.events) or "(none)"
            parts.append(f"=== {seat.name} Playground events\n{shown}")
        return "\n".join(parts)


def is_alert_card(event: Event) -> bool:
    """A new alert card: a channel post of its own (a thread), not an answer in a thread."""
    return (
        event.action == "createMessage"
        and event.card is not None
        and event.new_post_conversation_id is not None
        and "· alert " in card_text(event.card)
    )


def alert_id(event: Event) -> int | None:
    """The alert an alert card shows (its fallback text says `(alert N, state)`)."""
    found = re.search(r"\(alert (\d+),", str((event.card or {}).get("fallbackText", "")))
    return int(found.group(1)) if found else None


def invoke_card(answer: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The card in the bot's answer to a button press, if it answered with one."""
    if answer.get("type") == "application/vnd.microsoft.card.adaptive":
        value = answer.get("value")
        return value if isinstance(value, Mapping) else None
    return None
