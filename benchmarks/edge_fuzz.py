"""Benchmark: hostile requests against the bot's HTTP edge, counted by status.

Serves the whole bot (create_app, the demo workspace, SQLite) on loopback from a thread,
with authentication on (a local signing key trusted) or off, and sends:

- the hand-picked cases of tests/edge/hostile.py (deep JSON, lying encodings and
  lengths, forged tokens, activities of unexpected shape);
- N random requests: random bytes, random JSON, random activity shapes (well-signed
  with authentication on), forged tokens;
- a flood of forged tokens with random key ids (auth on) while /healthz is timed, the
  signing-key endpoint being a local server that accepts and never answers (as an
  unreachable login.botframework.com: HTTPS_PROXY for botbuilder's own `requests`, the
  key cache's URL for ours).

Prints one table per mode: requests sent, answers by status, 5xx, no answer, and /healthz
latency during the flood. Runs against whichever `bot` package comes first on the path,
so the same script measures an older checkout:

    .venv/bin/python -m benchmarks.edge_fuzz [--random 2000] [--flood 300]
    PYTHONPATH=/tmp/old-checkout .venv/bin/python benchmarks/edge_fuzz.py

A script that prints figures, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # after an older checkout given in PYTHONPATH

from aiohttp import web  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.edge.hostile import (  # noqa: E402
    Answer,
    activity,
    flood,
    forged_headers,
    hand_picked,
    request,
    send,
)
from tests.support.alerting import CATALOG, DEMO_NOW  # noqa: E402

#: Whether the bot under test has bot.edge (an older checkout has not).
HAS_EDGE = (Path(sys.modules["bot.app"].__file__ or "").parent / "edge").is_dir()
APP_ID = "3f1c2b4a-5d6e-4f70-8a9b-0c1d2e3f4a5b"
TENANT = "6417b88f-b93c-4137-8a73-e7e3daadd60a"
SERVICE_URL = "https://smba.trafficmanager.net/emea/"


@contextmanager
def blackhole() -> Iterator[int]:
    """A TCP port that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for sock in held:
            sock.close()
        server.close()


def trust(key: Any, hole: int) -> None:
    """Make the bot under test trust `key`, and fetch other keys from the black hole."""
    if not HAS_EDGE:  # a checkout from before the key cache: botbuilder's own
        from datetime import datetime, timedelta

        from botframework.connector.auth import JwtTokenExtractor
        from botframework.connector.auth.jwt_token_extractor import _OpenIdMetadata

        from tests.support.botframework_auth import METADATA_URL

        metadata = _OpenIdMetadata(METADATA_URL)
        metadata.keys = [key.jwk()]
        # Fetched over a day ago: botbuilder refetches (blocking) before looking a key up.
        metadata.last_updated = datetime.now() - timedelta(hours=25)
        JwtTokenExtractor.metadataCache[METADATA_URL] = metadata
        os.environ["HTTPS_PROXY"] = f"http://127.0.0.1:{hole}"
        return
    from bot.channels.teams import keys as teams_keys
    from bot.edge.signing_keys import SigningKeyCache
    from tests.support.botframework_auth import METADATA_URL

    cache = SigningKeyCache(
        teams_keys.TRUSTED_METADATA, resolve=lambda url: f"http://127.0.0.1:{hole}/"
    )
    cache.preload(METADATA_URL, [key.jwk()])
    teams_keys._cache = cache


def serve(app: web.Application) -> tuple[int, Callable[[], None]]:
    options: dict[str, Any] = {}
    if HAS_EDGE:
        from bot.edge import server_options
        from bot.edge.limits import EDGE

        options = server_options(app[EDGE].limits)
    loop = asyncio.new_event_loop()
    # Not the main thread: no signal handlers (an older bot's rule reloader asks for SIGHUP).
    loop.add_signal_handler = lambda *args, **kwargs: None  # type: ignore[method-assign]
    loop.remove_signal_handler = lambda *args, **kwargs: True  # type: ignore[method-assign]
    ready: list[Any] = []

    async def start() -> None:
        runner = web.AppRunner(app, **options)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        ready.append(runner)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    while not ready:
        time.sleep(0.05)
    runner = ready[0]

    def stop() -> None:
        try:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=30)
            loop.call_soon_threadsafe(loop.stop)
        except TimeoutError:
            print("(the bot's event loop is stuck: left behind)", file=sys.stderr)

    return runner.addresses[0][1], stop


def random_requests(
    count: int, rng: random.Random, auth: Callable[[], str] | None
) -> Iterator[bytes]:
    forged = [header for _, header in forged_headers()]
    for _ in range(count):
        headers = {"Authorization": auth()} if auth else {}
        choice = rng.randrange(4)
        if choice == 0:
            body = rng.randbytes(rng.randrange(600))
        elif choice == 1:
            body = json.dumps(_random_json(rng, 4)).encode()
        elif choice == 2:
            kind = rng.choice(["conversationUpdate", "installationUpdate", "invoke", "event", "x"])
            shape = activity(
                SERVICE_URL, type=kind, name=rng.choice(["adaptiveCard/action", "task/fetch", ""])
            )
            for field in rng.sample(
                ["value", "from", "conversation", "membersAdded", "channelData", "action"], 2
            ):
                shape[field] = _random_json(rng, 3)
            body = json.dumps(shape).encode()
        else:
            body = json.dumps(activity(SERVICE_URL)).encode()
            headers = {"Authorization": rng.choice(forged)}
        yield request(body, headers=headers)


def _random_json(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(7 if depth > 0 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.randrange(-(2**40), 2**40)
    if kind == 3:
        return rng.random() * 10 ** rng.randrange(-5, 300)
    if kind == 4:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(12)))
    if kind == 5:
        return [_random_json(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {str(rng.randrange(99)): _random_json(rng, depth - 1) for _ in range(rng.randrange(4))}


def run_mode(authenticated: bool, random_count: int, flood_count: int, hole: int) -> dict[str, Any]:
    from tests.support.botframework_auth import SigningKey

    key = SigningKey() if authenticated else None
    if key is not None:
        trust(key, hole)
    identity: dict[str, Any] = (
        {
            "microsoft_app_id": APP_ID,
            "microsoft_app_password": SecretStr("x"),
            "microsoft_app_tenant_id": TENANT,
        }
        if authenticated
        else {}
    )
    directory = Path(tempfile.mkdtemp(prefix="edge-fuzz-"))
    settings = Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{directory / 'bot.db'}",
        rules_path=CATALOG,
        demo_now=DEMO_NOW,
        rules_reload_seconds=0,
        scheduler_enabled=False,
        notifier="log",
        **identity,
    )
    port, stop = serve(create_app(settings))
    auth = (lambda: key.header(app_id=APP_ID, service_url=SERVICE_URL)) if key else None
    answers: list[Answer] = []
    try:
        answers += [send(port, data, timeout=10) for _, data in hand_picked(auth)]
        rng = random.Random(17)
        answers += [
            send(port, data, timeout=10) for data in random_requests(random_count, rng, auth)
        ]
        latencies: list[float] = []
        if authenticated and flood_count:
            # From other processes: their threads must not share the bot's GIL.
            spawn = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(2, mp_context=spawn) as pool:
                futures = [pool.submit(flood, port, flood_count // 2) for _ in range(2)]
                while not all(f.done() for f in futures):
                    probe = send(port, request(b"", method="GET", path="/healthz"), timeout=15)
                    latencies.append(probe.seconds)
                    time.sleep(0.05)
                flooded = [status for f in futures for status in f.result()]
            answers += [Answer(status, b"", 0.0) for status in flooded]
    finally:
        stop()
    statuses = Counter(a.status for a in answers)
    return {
        "mode": "auth on" if authenticated else "auth off",
        "sent": len(answers),
        "statuses": statuses,
        "5xx": sum(n for s, n in statuses.items() if s is not None and s >= 500),
        "no answer": statuses.get(None, 0),
        "leaks": sum(1 for a in answers if a.leaks),
        "healthz": latencies,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--random", type=int, default=2000)
    parser.add_argument("--flood", type=int, default=300)
    parser.add_argument("--modes", default="on,off")
    args = parser.parse_args()
    import bot

    print(f"bot from {Path(bot.__file__).parent}")
    print(
        f"{'mode':9} {'sent':>6} {'5xx':>5} {'none':>5} {'leaks':>5}  {'/healthz ms (median/max)':>24}  statuses"
    )
    with blackhole() as hole:
        for mode in args.modes.split(","):
            result = run_mode(mode == "on", args.random, args.flood, hole)
            latencies = result["healthz"]
            timing = (
                f"{statistics.median(latencies) * 1000:.0f}/{max(latencies) * 1000:.0f}"
                if latencies
                else "-"
            )
            shown = ", ".join(
                f"{s}: {n}" for s, n in sorted(result["statuses"].items(), key=lambda x: x[0] or 0)
            )
            print(
                f"{result['mode']:9} {result['sent']:>6} {result['5xx']:>5} {result['no answer']:>5} "
                f"{result['leaks']:>5}  {timing:>24}  {shown}",
                flush=True,
            )


if __name__ == "__main__":
    main()
