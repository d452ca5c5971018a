"""`alertbot demo` (`make run`): the bot on the demo workspace beside the Agents Playground.

1. Start the Playground (a local Teams) with tools/playground/admin.yml, pointed at the bot.
2. Start the bot with the rules loaded but not scheduled; install the app in the team; as
   the Playground's user (an alert admin) post `@bot subscribe all` and `@bot digest
   daily 08:00` in the team's channel, through the real command path; check the store
   holds that subscription.
3. Print the URL to open; the bot keeps serving meanwhile. The Playground shows only what
   arrives while its page is open (it drops what it buffered before, keeps no history), so:
4. once a page has connected, restart the bot with the rules scheduled, first runs
   spread over a few seconds: the provisioning digest arrives first (the latest 08:00
   one, caught up at start), then the demo's planted incidents fire and their cards
   arrive in the channel. Each card posted or changed is also printed here. Ctrl-C stops both.

Everything lives in a working directory that is emptied at each start (the database, the
logs, the Playground's own log). The demo's logs end at the moment the bot starts (again,
once the page is open) and the bot runs on the wall clock, so the times on the cards are
the real times of what happened: when a rule fired, when someone acknowledged.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO

import aiohttp

from bot.playground.events import Event, EventStream, card_summary
from bot.playground.playground import PlaygroundClient, PlaygroundIds, PlaygroundProcess
from bot.playground.processes import BotServer, StartupError, free_port
from bot.settings import ENV_PREFIX

#: The Playground's own default port: a URL that stays the same from run to run.
PLAYGROUND_PORT: Final = 56150
BOT_PORT: Final = 3978
#: First runs of the rules are spread over this many seconds once the page is open.
SPREAD_SECONDS: Final = 20.0
#: The channel also gets the provisioning digest; the bot sends the latest one (today's
#: or yesterday's 08:00) when it starts with its scheduler, before the alerts fire.
DIGEST_COMMAND: Final = "digest daily 08:00"
#: How long the bot may take to answer `subscribe all`.
ANSWER_SECONDS: Final = 30.0


@dataclass(frozen=True, slots=True)
class DemoOptions:
    root: Path
    workdir: Path
    config: Path
    playground_port: int = PLAYGROUND_PORT
    bot_port: int = BOT_PORT
    spread_seconds: float = SPREAD_SECONDS
    wait_for_page: bool = True


#: How long a page that just connected takes to be ready to show cards.
PAGE_SETTLE_SECONDS: Final = 5.0


def demo_settings(
    ids: PlaygroundIds, *, database: Path, rules: Path, now: datetime, spread_seconds: float
) -> dict[str, str]:
    """The bot's settings beside a Playground: demo workspace at `now`, Teams delivery, no
    authentication (the Playground sends none; the server binds 127.0.0.1 only), the
    Playground's user as the only admin, and its tenant allowed; notices to the affected
    person on, for the Playground's user only (a pilot of one)."""
    settings = {
        "WORKSPACE": "local",
        "DEMO_NOW": now.isoformat(),
        "DATABASE_URL": f"sqlite+aiosqlite:///{database.resolve()}",
        "RULES_PATH": str(rules.resolve()),
        "NOTIFIER": "teams",
        "HOST": "127.0.0.1",
        "ADMIN_OBJECT_IDS": ids.me.aad_object_id,
        "ALLOWED_TENANT_IDS": ids.tenant_id,
        "SCHEDULER_SPREAD_SECONDS": f"{spread_seconds:g}",
        "LOG_LEVEL": "INFO",
        # Notices to the affected person, piloted with the Playground's user alone.
        "NOTICES_ENABLED": "true",
        "NOTICES_PILOT_USER_IDS": ids.me.aad_object_id,
    }
    return {f"{ENV_PREFIX}{name}": value for name, value in settings.items()}


def demo_now() -> datetime:
    """The demo logs' "now": this second (the bot's clock is the wall clock)."""
    return datetime.now(UTC).replace(microsecond=0)


class Demo:
    """One `alertbot demo` run; `out` is the terminal."""

    def __init__(self, options: DemoOptions, out: TextIO = sys.stdout) -> None:
        """Empties `options.workdir`: a demo starts from nothing every time."""
        if options.workdir.exists():
            shutil.rmtree(options.workdir)
        options.workdir.mkdir(parents=True)
        self.options = options
        self.out = out
        workdir = options.workdir
        self.bot_port = free_port(options.bot_port)
        self.playground = PlaygroundProcess(
            launcher=options.root / "tools" / "playground" / "launch.sh",
            workdir=workdir / "playground",
            config=options.config,
            bot_endpoint=f"http://127.0.0.1:{self.bot_port}/api/messages",
            port=options.playground_port,
        )
        self.bot: BotServer | None = None

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    async def run(self) -> None:
        """Until Ctrl-C, SIGTERM or SIGHUP (or a child stops); then stop both, bot first."""
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        for stop_signal in (signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(stop_signal, task.cancel)
        try:
            await self._run()
        except asyncio.CancelledError:
            self.say("\nStopping ...")
        finally:
            if self.bot is not None:
                await self.bot.stop()
            await self.playground.stop()
            self.say(f"Stopped. Logs: {self.options.workdir}/bot-*.log, {self.playground.log_path}")

    async def _run(self) -> None:
        self.say("Starting the Microsoft 365 Agents Playground (a local Teams) ...")
        url = await self.playground.start()
        async with aiohttp.ClientSession() as session:
            client = await PlaygroundClient.connect(url, session)
            ids = client.ids
            self.bot = BotServer(
                workdir=self.options.workdir,
                port=self.bot_port,
                settings=demo_settings(
                    ids,
                    database=self.options.workdir / "alertbot.db",
                    rules=self.options.root / "config" / "rules",
                    now=demo_now(),
                    spread_seconds=self.options.spread_seconds,
                )
                | {f"{ENV_PREFIX}DEMO_CLOCK": "wall"},
            )
            self.say(f"Starting the bot on the demo workspace at {self.bot.url} ...")
            await self.bot.start(scheduler_enabled="false")
            await self._subscribe(client)
            self._invite(url, ids)  # the bot keeps serving (GET /healthz) while we wait
            if self.options.wait_for_page:
                await self._page_opened()
                self.say("The page is open.")
            await self.bot.stop()
            self.say("Starting the bot again, with the alert rules scheduled ...")
            async with client.stream() as events:
                # The logs end now, not when the demo started: the planted incidents
                # lie inside the rules' first windows, however long the page took.
                await self.bot.start(scheduler_enabled="true", demo_now=demo_now().isoformat())
                self.say("Cards appear here as they are posted or change (Ctrl-C stops):")
                await self._report(events, ids)

    async def _subscribe(self, client: PlaygroundClient) -> None:
        ids = client.ids
        self.say(
            f"Adding the app to team {ids.team_name!r}; as {ids.me.name}, an alert admin, "
            f"posting `@{ids.bot_name} subscribe all` in channel {ids.channel_name!r} ..."
        )
        async with client.stream() as events:
            await client.install(ids.team_id)
            await client.install(ids.personal_chat_id)  # notices for you arrive there
            for command in ("subscribe all", DIGEST_COMMAND):
                posted = await client.say(ids.channel_id, command)
                answer = await events.wait_for(
                    _in_conversation(posted.conversation_id),
                    within=ANSWER_SECONDS,
                    what="answer from the bot",
                )
                shown = answer.text or card_summary(answer.card or {})
                self.say(f"  `{command}`: the bot answered: {shown}")
        if not await self._subscribed(ids.channel_id):
            raise StartupError(f"the channel is not subscribed after that answer ({answer.text})")

    async def _subscribed(self, channel_id: str) -> bool:
        from bot.store.sql import open_store

        assert self.bot is not None
        store = await open_store(self.bot.settings[f"{ENV_PREFIX}DATABASE_URL"])
        try:
            subscriptions = await store.list_subscriptions()
        finally:
            await store.close()
        return any(s.conversation_id.startswith(channel_id) for s in subscriptions)

    def _invite(self, url: str, ids: PlaygroundIds) -> None:
        rule = "=" * 78
        self.say(
            f"\n{rule}\n  Open {url} , then under Teams Channel click {ids.channel_name!r} "
            f"({ids.team_name}).\n"
            f"  Alert cards arrive there within a minute of opening the page; press\n"
            f"  Acknowledge or Snooze on one and the card changes in place. Your own\n"
            f"  Personal Chat gets a notice: your password was reset. Press \"This wasn't\n"
            f'  me" and an alert card follows in the channel. You are\n'
            f"  {ids.me.name}, an alert admin; talk to the bot with @{ids.bot_name} help.\n"
            f"  Keep the page open: the Playground keeps no history (reloading empties it;\n"
            f"  run `make run` again for a fresh start).\n{rule}"
        )

    async def _page_opened(self) -> None:
        """Wait until a web page connects to the Playground (it logs each connection)."""
        before = self.playground.clients_connected()
        self.say("Waiting for the page to be opened ...")
        while self.playground.clients_connected() <= before:
            if not self.playground.child.alive:
                raise StartupError("the Playground stopped:\n" + self.playground.log_text())
            await asyncio.sleep(0.5)
        # The page connects before it has drawn its conversations; a card posted in that
        # moment (the digest, first of all) was received but never shown.
        await asyncio.sleep(PAGE_SETTLE_SECONDS)

    async def _report(self, events: EventStream, ids: PlaygroundIds) -> None:
        """Print each card posted or changed, until the bot or the Playground stops."""
        names = {channel_id: name for name, channel_id in ids.channels.items()}
        names[ids.personal_chat_id] = "Personal Chat"

        async def report() -> None:
            async for event in events.follow():
                if event.card is not None:
                    self.say(self._line(event, names))

        reporting = asyncio.create_task(report())
        try:
            while True:
                await asyncio.sleep(0.5)
                if not (self.playground.child.alive and self.bot and self.bot.alive):
                    break
        finally:
            reporting.cancel()
        raise StartupError("the bot or the Playground stopped; see their logs")

    @staticmethod
    def _line(event: Event, names: Mapping[str, str]) -> str:
        where = names.get(event.channel_id, event.channel_id)
        what = "new card" if event.action == "createMessage" else "card changed"
        now = datetime.now().strftime("%H:%M:%S")
        return f"  {now} {what} in {where}: {card_summary(event.card or {})}"


def _in_conversation(conversation_id: str) -> Callable[[Event], bool]:
    return lambda event: event.conversation_id == conversation_id
