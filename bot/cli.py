"""The `alertbot` command line: parse arguments, call into the app, print, exit.

Exit codes: 0 success, 1 the query is wrong (for `ask`: no question fits), 2 bad usage or
settings, 3 the workspace could not answer (retryable: throttled, timeout, unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

from bot.errors import ConfigError, QueryError, RetryableWorkspaceError, WorkspaceError
from bot.settings import Settings, load_settings
from bot.timespans import TimeSpanError, parse_datetime, parse_timespan

if TYPE_CHECKING:
    from bot.alerts import console

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
    _add_ask_command(commands)
    _add_alert_commands(commands)
    manifest = commands.add_parser(
        "manifest",
        help="build the Teams app package (manifest.json and icons, zipped), or print the "
        "Slack app manifest",
        description="Build the sideloadable Teams app package from manifest/ and the settings; "
        "with --slack, print the Slack app manifest (YAML) instead.",
    )
    manifest.add_argument(
        "--out", type=Path, default=Path("dist/app.zip"), help="zip to write (default: %(default)s)"
    )
    manifest.add_argument(
        "--slack", action="store_true", help="print the Slack app manifest (YAML) to paste"
    )
    _add_demo_command(commands)
    return parser


def _add_demo_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="try the bot in a local Teams: the demo workspace and the Agents Playground",
        description="Start the Microsoft 365 Agents Playground and the bot on the demo "
        "workspace, subscribe the Playground team's channel to every alert, print the URL to "
        "open, and post the demo's alert cards there once the page is open (`make run`). "
        "Run it from the repository root, after `npm ci`.",
    )
    demo.add_argument(
        "--port", type=int, default=56150, help="the Playground's port (default: %(default)s)"
    )
    demo.add_argument(
        "--workdir",
        type=Path,
        default=Path("var/demo"),
        help="emptied at each start; database and logs (default: %(default)s)",
    )
    demo.add_argument(
        "--config",
        type=Path,
        default=Path("tools/playground/admin.yml"),
        help="the Playground's mock tenant, users and team (default: %(default)s)",
    )
    demo.add_argument(
        "--spread",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="spread the rules' first runs over this long (default: %(default)s)",
    )
    demo.add_argument(
        "--no-wait",
        action="store_true",
        help="schedule the rules at once instead of waiting for the page to be opened",
    )


def _add_ask_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ask = commands.add_parser(
        "ask",
        help="answer a question in plain language with the matching KQL",
        description="Understand a question such as `provisioning failures for job Workday "
        "last 24h`, run the matching query of the question catalog against the configured "
        "workspace, and print the answer. Exits 1 when no question fits.",
    )
    ask.add_argument("question", help="the question, or - to read it from standard input")
    ask.add_argument("--format", choices=["table", "json"], default="table")


def _add_alert_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rules = commands.add_parser("rules", help="check or list the alert rules")
    actions = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    for name, text in (
        ("validate", "check rule files: YAML, fields, KQL, columns and settings"),
        ("list", "show the rule catalog"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "paths", nargs="*", type=Path, help="rule files or directories (default: rules_path)"
        )
    evaluate = commands.add_parser(
        "evaluate",
        help="evaluate the rules once against the workspace, notifying no one",
        description="Run one evaluation cycle with a fresh state and print, per rule and "
        "dimension, the measured value, the condition and the resulting state.",
    )
    evaluate.add_argument("--rule", metavar="ID", help="evaluate only this rule")
    evaluate.add_argument(
        "--at", metavar="ISO-TIME", help="evaluate as of this time (default: the workspace's now)"
    )
    evaluate.add_argument("--format", choices=["table", "json"], default="table")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail(
            "invalid settings:\n" + "\n".join(f"  {p}" for p in error.problems), EXIT_USAGE
        )
    # One-shot commands print results; their progress logs would only be noise.
    logging.basicConfig(
        level=settings.log_level if args.command == "serve" else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command == "serve":
        return _serve(settings)
    if args.command == "rules":
        return _rules(settings, args)
    if args.command == "evaluate":
        return _evaluate(settings, args)
    if args.command == "ask":
        return _ask(settings, args)
    if args.command == "manifest" and args.slack:
        return _slack_manifest(settings)
    if args.command == "manifest":
        return _manifest(settings, args.out)
    if args.command == "demo":
        return _demo(args)
    return _query(settings, args)


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.settings import bot_identity_problems

    identity = bot_identity_problems(settings)
    if identity:
        problems = "\n".join(f"  {p}" for p in identity)
        return _fail(
            f"not starting: the bot's Microsoft app identity is incomplete:\n{problems}", EXIT_USAGE
        )
    try:
        app = create_app(settings)
    except ConfigError as error:
        problems = "\n".join(f"  {p}" for p in error.problems)
        return _fail(f"not starting: the rules are invalid:\n{problems}", EXIT_USAGE)
    if settings.slack_enabled:
        from bot.channels.slack.wiring import preflight

        slack_problems = asyncio.run(preflight(settings))
        if slack_problems:
            problems = "\n".join(f"  {p}" for p in slack_problems)
            return _fail(f"not starting:\n{problems}", EXIT_USAGE)
    print(f"alertbot serving on http://{settings.host}:{settings.port}", flush=True)
    try:
        web.run_app(app, host=settings.host, port=settings.port, print=None)
    except ConfigError as error:  # found at start-up (e.g. Slack refused the bot token)
        problems = "\n".join(f"  {p}" for p in error.problems)
        return _fail(f"not starting:\n{problems}", EXIT_USAGE)
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


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_workspace
    from bot.ask.catalog import load_catalog
    from bot.ask.console import ask_once
    from bot.ask.service import Asker

    question = sys.stdin.read() if args.question == "-" else args.question
    try:
        catalog = load_catalog([settings.questions_path])
    except ConfigError as error:
        return _fail("invalid question catalog:\n" + "\n".join(error.problems), EXIT_USAGE)

    async def run() -> tuple[str, bool]:
        async with open_workspace(settings) as workspace:
            now = _workspace_now(settings)
            asker = Asker(catalog=catalog, workspace=workspace, clock=lambda: now)
            printed = await ask_once(asker, question, output_format=args.format)
            return printed.text, printed.understood

    try:
        text, understood = asyncio.run(run())
    except QueryError as error:
        return _fail(f"query error: {error}", EXIT_QUERY)
    except RetryableWorkspaceError as error:
        return _fail(f"the workspace could not answer (try again): {error}", EXIT_WORKSPACE)
    except WorkspaceError as error:
        return _fail(f"query failed: {error}", EXIT_WORKSPACE)
    print(text)
    return EXIT_OK if understood else EXIT_QUERY


def _rules(settings: Settings, args: argparse.Namespace) -> int:
    from bot.alerts import console
    from bot.workspace.probe import empty_tables_probe

    paths = args.paths or [settings.rules_path]
    if args.rules_command == "list":
        return _exit_code(console.list_rules(paths, out=sys.stdout, err=sys.stderr))
    with empty_tables_probe() as probe:
        outcome = console.validate_rules(paths, probe=probe, out=sys.stdout, err=sys.stderr)
    return _exit_code(outcome)


def _manifest(settings: Settings, out: Path) -> int:
    from bot.command_help import COMMANDS
    from bot.manifest import write_package

    try:
        print(write_package(settings, COMMANDS, out))
    except ConfigError as error:
        return _fail("cannot build the app package:\n" + "\n".join(error.problems), EXIT_USAGE)
    return EXIT_OK


def _slack_manifest(settings: Settings) -> int:
    from bot.channels.slack.manifest import manifest_yaml

    try:
        print(manifest_yaml(settings), end="")
    except ConfigError as error:
        return _fail("cannot build the Slack manifest:\n" + "\n".join(error.problems), EXIT_USAGE)
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from bot.playground.demo import Demo, DemoOptions
    from bot.playground.processes import StartupError

    root = Path.cwd()
    if not (root / "tools" / "playground" / "launch.sh").exists():
        return _fail("run `alertbot demo` from the repository root (or `make run`)", EXIT_USAGE)
    options = DemoOptions(
        root=root,
        workdir=args.workdir,
        config=args.config,
        playground_port=args.port,
        spread_seconds=args.spread,
        wait_for_page=not args.no_wait,
    )
    try:
        asyncio.run(Demo(options).run())
    except KeyboardInterrupt:
        return EXIT_OK
    except StartupError as error:
        return _fail(f"demo: {error}", EXIT_WORKSPACE)
    return EXIT_OK


def _evaluate(settings: Settings, args: argparse.Namespace) -> int:
    from bot.alerts import console
    from bot.app import open_workspace

    try:
        at = parse_datetime(args.at) if args.at else _workspace_now(settings)
    except TimeSpanError as error:
        return _fail(f"--at: {error}", EXIT_USAGE)

    outcome = console.evaluate_rules(
        [settings.rules_path],
        lambda: open_workspace(settings),
        at=at,
        rule_id=args.rule,
        output_format=args.format,
        out=sys.stdout,
        err=sys.stderr,
    )
    return _exit_code(asyncio.run(outcome))


def _workspace_now(settings: Settings) -> datetime:
    """The demo's "now" (its anchor) for the local workspace, else the wall clock."""
    now = datetime.now(UTC)
    return settings.demo_anchor(now=now) if settings.workspace == "local" else now


def _exit_code(outcome: console.Outcome) -> int:
    return {"ok": EXIT_OK, "invalid": EXIT_QUERY, "usage": EXIT_USAGE}.get(
        outcome.value, EXIT_WORKSPACE
    )


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
