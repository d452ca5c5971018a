"""The `alertbot` command line: parse arguments, call into the app, print, exit.

Exit codes: 0 success, 1 the query is wrong (for `ask`: no question fits), 2 bad usage or
settings, 3 the workspace or the database could not answer (retryable: throttled, timeout,
unreachable), 70 an unexpected error (a bug: `alertbot --debug ...` shows the traceback),
141 the reader of the output went away (`alertbot ... | head`). Every failure is one line
per problem on standard error, without a traceback unless --debug or ALERTBOT_LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

from bot.errors import ConfigError, QueryError, RetryableWorkspaceError, WorkspaceError
from bot.logs import formatter
from bot.settings import Settings, load_settings
from bot.timespans import TimeSpanError, parse_datetime, parse_timespan

if TYPE_CHECKING:
    from bot.alerts import console

EXIT_OK: Final = 0
EXIT_QUERY: Final = 1
EXIT_USAGE: Final = 2
EXIT_WORKSPACE: Final = 3
EXIT_INTERNAL: Final = 70
EXIT_BROKEN_PIPE: Final = 141


class _CommandParser(argparse.ArgumentParser):
    """A command's parser: `--debug` is also accepted after the command's name."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alertbot",
        description="Entra ID governance and provisioning alerting bot.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="log everything and show tracebacks of failures"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser
    )
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


def _add_demo_command(commands: argparse._SubParsersAction[_CommandParser]) -> None:
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


def _add_ask_command(commands: argparse._SubParsersAction[_CommandParser]) -> None:
    ask = commands.add_parser(
        "ask",
        help="answer a question in plain language with the matching KQL",
        description="Understand a question such as `provisioning failures for job Workday "
        "last 24h`, run the matching query of the question catalog against the configured "
        "workspace, and print the answer. Exits 1 when no question fits.",
    )
    ask.add_argument("question", help="the question, or - to read it from standard input")
    ask.add_argument("--format", choices=["table", "json"], default="table")


def _add_alert_commands(commands: argparse._SubParsersAction[_CommandParser]) -> None:
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
    imported = actions.add_parser(
        "import",
        help="convert Azure Monitor log search alert rules (ARM JSON) into a rule file",
        description="Convert Microsoft.Insights/scheduledQueryRules (an ARM template, a REST "
        "resource, or `az monitor scheduled-query show|list` output) into the bot's rule "
        "format, say what could not be carried over, and validate the result.",
    )
    imported.add_argument("file", type=Path, help="the exported JSON")
    imported.add_argument(
        "--parameters", type=Path, help="an ARM parameters file for [parameters('x')] values"
    )
    imported.add_argument("--out", type=Path, help="write the rule file here (default: print it)")
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
    debug = args.debug or os.environ.get("ALERTBOT_LOG_LEVEL", "").upper() == "DEBUG"
    try:
        code = _run(args, debug=debug)
        sys.stdout.flush()  # here, where a reader gone away is caught, not at exit
    except BrokenPipeError:
        # `alertbot ... | head`: the reader has what it wanted; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if debug:
            raise
        first_line = next(iter(str(error).splitlines()), "")
        return _fail(
            f"unexpected error: {type(error).__name__}: {first_line} "
            "(run `alertbot --debug ...` for the traceback)",
            EXIT_INTERNAL,
        )
    return code


def _run(args: argparse.Namespace, *, debug: bool) -> int:
    try:
        settings = load_settings()
    except ConfigError as error:
        return _fail_problems("invalid settings", error.problems, EXIT_USAGE)
    debug = debug or settings.log_level == "DEBUG"
    # One-shot commands print results; their progress logs would only be noise.
    level = settings.log_level if args.command == "serve" else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    logging.basicConfig(
        level=logging.DEBUG if debug else level,
        handlers=[handler],
    )
    if not debug:  # their failures reach the user as our one-line errors
        logging.getLogger("azure").setLevel(logging.ERROR)
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.command == "serve":
        return _serve(settings, debug=debug)
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


def _serve(settings: Settings, *, debug: bool) -> int:
    from bot.app import create_app, edge_limits
    from bot.edge import server_options
    from bot.serve import bind, serve
    from bot.settings import bot_identity_problems
    from bot.store import StoreUnavailableError

    identity = bot_identity_problems(settings)
    if identity:
        return _fail_problems(
            "not starting: the bot's Microsoft app identity is incomplete or unsafe",
            identity,
            EXIT_USAGE,
        )
    try:
        app = create_app(settings)
    except ConfigError as error:
        return _fail_problems("not starting: the rules are invalid", error.problems, EXIT_USAGE)
    if settings.slack_enabled:
        from bot.channels.slack.wiring import preflight

        slack_problems = asyncio.run(preflight(settings))
        if slack_problems:
            return _fail_problems("not starting", slack_problems, EXIT_USAGE)

    def announce() -> None:
        print(f"alertbot serving on http://{settings.host}:{settings.port}", flush=True)

    try:
        options = server_options(edge_limits(settings))
        asyncio.run(serve(app, bind(settings.host, settings.port), announce, options))
    except ConfigError as error:  # found at start-up (e.g. Slack refused the bot token)
        return _fail_problems("not starting", error.problems, EXIT_USAGE)
    except (StoreUnavailableError, WorkspaceError) as error:
        if debug:
            raise
        return _fail(f"not starting: {_one_line(error)}", EXIT_WORKSPACE)
    return EXIT_OK


def _query(settings: Settings, args: argparse.Namespace) -> int:
    from bot.output import render
    from bot.workspace.factory import open_workspace

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
    except ConfigError as error:
        return _fail_problems("invalid settings", error.problems, EXIT_USAGE)
    except QueryError as error:
        return _fail(_describe_query_error(kql, error), EXIT_QUERY)
    except RetryableWorkspaceError as error:
        return _fail(
            f"the workspace could not answer (try again): {_one_line(error)}", EXIT_WORKSPACE
        )
    except WorkspaceError as error:
        return _fail(f"query failed: {_one_line(error)}", EXIT_WORKSPACE)
    return EXIT_OK


def _ask(settings: Settings, args: argparse.Namespace) -> int:
    from bot.ask.catalog import load_catalog
    from bot.ask.console import ask_once
    from bot.ask.service import Asker
    from bot.workspace import kql_syntax
    from bot.workspace.factory import open_workspace

    question = sys.stdin.read() if args.question == "-" else args.question
    kql_syntax.remember_under(settings.cache_dir)
    try:
        catalog = load_catalog([settings.questions_path])
    except ConfigError as error:
        return _fail_problems("invalid question catalog", error.problems, EXIT_USAGE)

    async def run() -> tuple[str, bool]:
        async with open_workspace(settings) as workspace:
            now = _workspace_now(settings)
            asker = Asker(catalog=catalog, workspace=workspace, clock=lambda: now)
            printed = await ask_once(asker, question, output_format=args.format)
            return printed.text, printed.understood

    try:
        text, understood = asyncio.run(run())
    except ConfigError as error:
        return _fail_problems("invalid settings", error.problems, EXIT_USAGE)
    except QueryError as error:
        return _fail(f"query error: {error}", EXIT_QUERY)
    except RetryableWorkspaceError as error:
        return _fail(
            f"the workspace could not answer (try again): {_one_line(error)}", EXIT_WORKSPACE
        )
    except WorkspaceError as error:
        return _fail(f"query failed: {_one_line(error)}", EXIT_WORKSPACE)
    print(text)
    return EXIT_OK if understood else EXIT_QUERY


def _rules(settings: Settings, args: argparse.Namespace) -> int:
    from bot.alerts import console
    from bot.workspace import kql_syntax
    from bot.workspace.probe import empty_tables_probe

    if args.rules_command == "import":
        return _rules_import(args)
    kql_syntax.remember_under(settings.cache_dir)
    paths = args.paths or [settings.rules_path]
    if args.rules_command == "list":
        return _exit_code(console.list_rules(paths, out=sys.stdout, err=sys.stderr))
    with empty_tables_probe(translations=settings.cache_dir / "kql") as probe:
        outcome = console.validate_rules(
            paths,
            probe=probe,
            engine_gaps_are_errors=settings.workspace == "local",
            out=sys.stdout,
            err=sys.stderr,
        )
    return _exit_code(outcome)


def _rules_import(args: argparse.Namespace) -> int:
    from bot.azure_monitor.import_console import import_rule_file
    from bot.workspace.probe import empty_tables_probe

    with empty_tables_probe() as probe:
        outcome = import_rule_file(
            args.file,
            parameters=args.parameters,
            out=args.out,
            probe=probe,
            stdout=sys.stdout,
            stderr=sys.stderr,
        )
    return _exit_code(outcome)


def _manifest(settings: Settings, out: Path) -> int:
    from bot.command_help import COMMANDS
    from bot.manifest import write_package

    try:
        print(write_package(settings, COMMANDS, out))
    except ConfigError as error:
        return _fail_problems("cannot build the app package", error.problems, EXIT_USAGE)
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
    from bot.workspace.factory import open_workspace

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


def _one_line(error: BaseException) -> str:
    """An error's first line: drivers and SDKs (azure-identity) append pages of detail."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else type(error).__name__
    return f"{lines[0]} (`alertbot --debug ...` shows the details)"


def _fail_problems(what: str, problems: Sequence[str], code: int) -> int:
    """One line for one problem; else `what:` and the problems indented below it."""
    if len(problems) == 1:
        return _fail(f"{what}: {problems[0]}", code)
    return _fail(f"{what}:\n" + "\n".join(f"  {p}" for p in problems), code)


def _fail(message: str, code: int, stream: TextIO | None = None) -> int:
    print(f"alertbot: {message}", file=stream or sys.stderr)
    return code
