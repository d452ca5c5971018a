"""The `alertbot` command line: parse arguments, call into the app, print, exit.

Exit codes: 0 success, 1 the query is wrong, 2 bad usage or settings,
3 the workspace could not answer (retryable: throttled, timeout, unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Final, TextIO

from bot.errors import ConfigError, QueryError, RetryableWorkspaceError, WorkspaceError
from bot.settings import Settings, load_settings
from bot.timespans import TimeSpanError, parse_timespan

EXIT_OK: Final = 0
EXIT_QUERY: Final = 1
EXIT_USAGE: Final = 2
EXIT_WORKSPACE: Final = 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alertbot",
        description="Entra ID governance and provisioning alerting bot.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="start the bot's HTTP server")
    query = commands.add_parser(
        "query",
        help="run KQL against the configured workspace",
        description="Run KQL against the configured workspace (demo or Azure).",
    )
    query.add_argument("kql", help="the KQL query text, or - to read it from standard input")
    query.add_argument(
        "--timespan",
        help="time range on TimeGenerated: 24h, 7d, P1D, or START/END in ISO 8601 "
        "(default: no limit beyond the query's own)",
    )
    query.add_argument("--format", choices=["table", "json", "csv"], default="table")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail(
            "invalid settings:\n" + "\n".join(f"  {p}" for p in error.problems), EXIT_USAGE
        )
    logging.basicConfig(
        level=settings.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        return _serve(settings)
    return _query(settings, args)


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import create_app

    print(f"alertbot serving on http://{settings.host}:{settings.port}", flush=True)
    web.run_app(create_app(settings), host=settings.host, port=settings.port, print=None)
    return EXIT_OK


def _query(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_workspace
    from bot.output import render

    kql = sys.stdin.read() if args.kql == "-" else args.kql
    try:
        timespan = parse_timespan(args.timespan) if args.timespan else None
    except TimeSpanError as error:
        return _fail(f"--timespan: {error}", EXIT_USAGE)

    async def run() -> str:
        async with open_workspace(settings) as workspace:
            return render(await workspace.query(kql, timespan=timespan), args.format)

    try:
        print(asyncio.run(run()))
    except QueryError as error:
        return _fail(_describe_query_error(kql, error), EXIT_QUERY)
    except RetryableWorkspaceError as error:
        return _fail(f"the workspace could not answer (try again): {error}", EXIT_WORKSPACE)
    except WorkspaceError as error:
        return _fail(f"query failed: {error}", EXIT_WORKSPACE)
    return EXIT_OK


def _describe_query_error(kql: str, error: QueryError) -> str:
    """The message, then the offending line with a caret under the column."""
    message = f"query error: {error}"
    lines = kql.splitlines()
    if error.line is None or error.column is None or not 0 < error.line <= len(lines):
        return message
    source = lines[error.line - 1]
    return f"{message}\n  {source}\n  {' ' * (error.column - 1)}^"


def _fail(message: str, code: int, stream: TextIO | None = None) -> int:
    print(f"alertbot: {message}", file=stream or sys.stderr)
    return code
