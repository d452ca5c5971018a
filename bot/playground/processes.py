"""Child processes: the bot server (`python -m bot serve`) and the helpers to run any child.

Each child runs in a session of its own, so Ctrl-C at a terminal reaches only the parent,
which then stops the children in order; on Linux a child also gets SIGTERM if the parent
dies without doing so (killed, a test worker ended). Output goes to a log file, never to
a pipe that could fill up. `stop` sends SIGTERM and waits, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

import aiohttp

from bot.settings import ENV_PREFIX

#: How often a start-up condition is checked.
POLL_SECONDS: Final = 0.1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    """Linux: the child gets SIGTERM when the parent dies, however the parent ends."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG: Final = 1
_LIBC = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)


class StartupError(RuntimeError):
    """A child did not come up; the message ends with the end of its log."""


class Child:
    """One child process with its log file."""

    def __init__(
        self, name: str, args: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path
    ) -> None:
        self.name = name
        self.args = list(args)
        self.cwd = cwd
        self.env = dict(env)
        self.log_path = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    async def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; the exit code (None: never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


def free_port(preferred: int | None = None) -> int:
    """`preferred` if nothing listens on it on 127.0.0.1, else a port the system picks."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


async def wait_until(
    check: Callable[[], Awaitable[bool]],
    *,
    child: Child,
    what: str,
    within: float,
    log: Callable[[], str] | None = None,
) -> None:
    """Poll `check` until it holds; StartupError if `child` exits or time runs out."""
    deadline = time.monotonic() + within
    while not await check():
        problem = (
            f"{child.name} exited with code {child.returncode} before {what}"
            if not child.alive
            else f"no {what} within {within:g} s"
            if time.monotonic() > deadline
            else None
        )
        if problem:
            text = (log or child.log_text)()
            raise StartupError(f"{problem}; the end of its log:\n{tail(text)}")
        await asyncio.sleep(POLL_SECONDS)


def inherited_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any ALERTBOT_* variable, plus `settings`."""
    kept = {k: v for k, v in os.environ.items() if not k.upper().startswith(ENV_PREFIX)}
    return kept | dict(settings)


class BotServer:
    """`python -m bot serve` in `workdir` (so no `.env` of the caller's is read).

    Each start appends to `bot-N.log` (N counts starts); `settings` are ALERTBOT_* variables.
    """

    def __init__(self, *, workdir: Path, port: int, settings: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.port = port
        self.settings = dict(settings) | {f"{ENV_PREFIX}PORT": str(port)}
        self.starts = 0
        self.child: Child | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """Where a chat channel posts activities."""
        return f"{self.url}/api/messages"

    async def start(self, *, within: float = 60.0, **changes: str) -> None:
        """Start with `changes` to the settings (names without the prefix, any case);
        return once /readyz answers 200."""
        self.settings |= {f"{ENV_PREFIX}{k.upper()}": v for k, v in changes.items()}
        self.starts += 1
        self.child = Child(
            "the bot",
            [sys.executable, "-m", "bot", "serve"],
            cwd=self.workdir,
            env=inherited_environment(self.settings),
            log=self.workdir / f"bot-{self.starts}.log",
        )
        self.child.start()
        async with aiohttp.ClientSession() as session:
            await wait_until(
                lambda: self._ready(session), child=self.child, what="readiness", within=within
            )

    async def _ready(self, session: aiohttp.ClientSession) -> bool:
        try:
            async with session.get(f"{self.url}/readyz", timeout=aiohttp.ClientTimeout(3)) as r:
                return r.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    @property
    def alive(self) -> bool:
        return self.child is not None and self.child.alive

    async def stop(self) -> int | None:
        return None if self.child is None else await self.child.stop()

    def log_text(self) -> str:
        logs = sorted(self.workdir.glob("bot-*.log"), key=lambda p: int(p.stem.split("-")[1]))
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)
