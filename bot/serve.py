"""`alertbot serve`: bind the port, start the application, say so, serve until stopped.

The port is bound before anything is opened (a port in use fails at once, in one line);
then the application starts (store, workspace, deliveries, chat, scheduler) and only
once requests are answered does `announce` say "serving on". SIGINT and SIGTERM stop
it: open requests get SHUTDOWN_SECONDS to finish, then the application closes in
reverse order. Failures are AlertBotErrors for the command line to print in one line.
"""

from __future__ import annotations

import asyncio
import errno
import signal
import socket
from collections.abc import Callable
from typing import Final

from aiohttp import web

from bot.errors import ConfigError
from bot.settings import ENV_PREFIX

#: How long open requests may take to finish once a stop signal arrives.
SHUTDOWN_SECONDS: Final = 30.0

_REASONS: Final = {
    errno.EADDRINUSE: "the port is in use by another process",
    errno.EACCES: "permission denied (ports below 1024 need privileges)",
    errno.EADDRNOTAVAIL: "no network interface has that address",
}


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (listening starts with the server); ConfigError if not."""
    where = f"{host}:{port} ({ENV_PREFIX}HOST, {ENV_PREFIX}PORT)"
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise ConfigError([f"cannot listen on {where}: {error.strerror}"]) from error
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        reason = _REASONS.get(error.errno or 0, error.strerror or str(error))
        raise ConfigError([f"cannot listen on {where}: {reason}"]) from error
    sock.setblocking(False)
    return sock


async def serve(app: web.Application, sock: socket.socket, announce: Callable[[], None]) -> None:
    """Start `app` on `sock`, call `announce` once it serves, and serve until SIGINT/SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    for stop_signal in stop_signals:
        loop.add_signal_handler(stop_signal, stop.set)
    runner = web.AppRunner(app, shutdown_timeout=SHUTDOWN_SECONDS)
    try:
        await runner.setup()  # the application's start-up: raises what fails there
        if not stop.is_set():
            await web.SockSite(runner, sock).start()
            announce()
            await stop.wait()
    finally:
        await runner.cleanup()
        for stop_signal in stop_signals:
            loop.remove_signal_handler(stop_signal)
        sock.close()
