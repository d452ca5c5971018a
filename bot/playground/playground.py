"""The Microsoft 365 Agents Playground: start it, and act in it as its current user.

It is a local web app that looks and behaves like Teams for a bot (npm
`@microsoft/m365agentsplayground`, pinned in package.json because the routes used here
are the ones its web page uses, not a published API). `tools/playground/launch.sh`
starts it; its mock tenant, users and team come from a YAML file there. Messages always
come from the file's `currentUser`: another person needs another Playground.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp

from bot.playground.events import STREAM_PATH, EventStream
from bot.playground.processes import Child, wait_until

LISTENING: Final = re.compile(r"Listening on (\d+)")
#: Its own log, in its working directory; configuration errors appear only there.
LOG: Final = Path("devTools/m365agentsplayground.log")
#: Each web page (and each `EventStream`) that connects logs this once per socket.
CLIENT_CONNECTED: Final = "started web socket client"


class PlaygroundProcess:
    """The Playground as a child process working in `workdir`."""

    def __init__(
        self,
        *,
        launcher: Path,
        workdir: Path,
        config: Path,
        bot_endpoint: str,
        port: int = 0,
        options: tuple[str, ...] = (),
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port: int | None = None
        self.child = Child(
            "the Agents Playground",
            [str(launcher), bot_endpoint, str(config.resolve()), str(port), *options],
            cwd=workdir,
            env=dict(os.environ),
            log=workdir / "playground.out",
        )

    @property
    def url(self) -> str:
        """Its web page and API: the URL a person opens."""
        return f"http://localhost:{self.port}"

    async def start(self, within: float = 30.0) -> str:
        """Start it; return its URL once it answers /_debug/ping."""
        self.child.start()
        await wait_until(self._listening, child=self.child, what="`Listening on`", within=within)
        async with aiohttp.ClientSession() as session:
            await wait_until(
                lambda: self._pong(session),
                child=self.child,
                what="an answer to /_debug/ping",
                within=within,
                log=self.log_text,
            )
        return self.url

    async def _listening(self) -> bool:
        found = LISTENING.search(self.child.log_text())
        if found:
            self.port = int(found.group(1))
        return found is not None

    async def _pong(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.url}/_debug/ping") as answer:
                return answer.status == 200 and (await answer.text()).strip() == "pong"
        except aiohttp.ClientError:
            return False

    @property
    def log_path(self) -> Path:
        return self.workdir / LOG

    def log_text(self) -> str:
        """What it printed, then its own log file."""
        own = self.log_path
        logged = own.read_text(errors="replace") if own.exists() else "(no log file yet)"
        return f"{self.child.log_text()}\n--- {own}\n{logged}"

    def clients_connected(self) -> int:
        """How many WebSocket clients have connected so far (a web page opens several)."""
        own = self.log_path
        return own.read_text(errors="replace").count(CLIENT_CONNECTED) if own.exists() else 0

    async def stop(self) -> int | None:
        return await self.child.stop(grace=5)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    aad_object_id: str


@dataclass(frozen=True, slots=True)
class PlaygroundIds:
    """The effective mock ids (`GET /_internal/v1/testConfig`)."""

    tenant_id: str
    bot_id: str
    bot_name: str
    me: Person
    others: tuple[Person, ...]
    personal_chat_id: str
    group_chat_id: str
    team_id: str
    team_name: str
    #: Channel name -> id. General's id is the team's.
    channels: Mapping[str, str]

    @property
    def channel_id(self) -> str:
        """The team's channel besides General (General if there is none)."""
        return next((i for i in self.channels.values() if i != self.team_id), self.team_id)

    @property
    def channel_name(self) -> str:
        return next(name for name, i in self.channels.items() if i == self.channel_id)

    @classmethod
    def parse(cls, config: Mapping[str, Any]) -> PlaygroundIds:
        team = config["teams"][0]
        return cls(
            tenant_id=config["tenantId"],
            bot_id=config["bot"]["id"],
            bot_name=config["bot"]["name"],
            me=_person(config["currentUser"]),
            others=tuple(_person(user) for user in config["users"]),
            personal_chat_id=config["personalChat"]["id"],
            group_chat_id=config["groupChats"][0]["id"],
            team_id=team["id"],
            team_name=team["name"],
            channels={channel["name"]: channel["id"] for channel in team["channels"]},
        )


def _person(user: Mapping[str, Any]) -> Person:
    return Person(id=user["id"], name=user["name"], aad_object_id=user["aadObjectId"])


@dataclass(frozen=True, slots=True)
class Posted:
    """A message the current user posted. In a channel it starts a thread."""

    message_id: str
    conversation_id: str


class PlaygroundClient:
    """Acts in a running Playground as its current user, through the routes its page uses."""

    def __init__(self, url: str, session: aiohttp.ClientSession, ids: PlaygroundIds) -> None:
        self.url = url.rstrip("/")
        self.session = session
        self.ids = ids

    @classmethod
    async def connect(cls, url: str, session: aiohttp.ClientSession) -> PlaygroundClient:
        async with session.get(f"{url}/_internal/v1/testConfig") as answer:
            answer.raise_for_status()
            config = await answer.json()
        return cls(url, session, PlaygroundIds.parse(config["config"]))

    async def install(self, conversation_id: str) -> None:
        """Add the app to a conversation (the team: its General channel), as Teams does."""
        path = f"/_debug/conversation/{conversation_id}/installation"
        async with self.session.post(self.url + path, json={}) as answer:
            answer.raise_for_status()

    async def say(self, conversation_id: str, text: str, *, mention: bool | None = None) -> Posted:
        """Post `text`. Outside the personal chat the bot hears only messages that mention
        it, so by default those start with `@<bot>`."""
        if mention is None:
            mention = conversation_id != self.ids.personal_chat_id
        at = f"<at>{self.ids.bot_name}</at>"
        body: dict[str, Any] = {
            "text": f"{at} {text}" if mention else text,
            "textFormat": "plain",
            "from": {"id": self.ids.me.id},
        }
        if mention:
            bot = {"id": self.ids.bot_id, "name": self.ids.bot_name}
            body["mentions"] = [{"mentioned": bot, "text": at}]
        path = f"/_conversation/v1/conversations/{conversation_id}/messages"
        async with self.session.post(self.url + path, json=body) as answer:
            answer.raise_for_status()
            sent = await answer.json()
        return Posted(
            message_id=str(sent["messageId"]),
            conversation_id=str(sent.get("postConversationId") or conversation_id),
        )

    @asynccontextmanager
    async def stream(self) -> AsyncIterator[EventStream]:
        """A connected EventStream whose stale events have already passed (see events)."""
        ws = await self.session.ws_connect(self.url + STREAM_PATH, heartbeat=20)
        events = EventStream(ws)
        try:
            await events.settle()
            yield events
        finally:
            await events.close()
