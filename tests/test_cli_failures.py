"""Every start-up and command-line failure is one clear line on standard error, with exit
code 2 (configuration) or 3 (a dependency that cannot be reached), and no traceback
unless --debug; `serve` says "serving on" only once it serves; output piped into a
reader that goes away (`| head`) ends quietly."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from bot import cli
from bot.cli import EXIT_BROKEN_PIPE, EXIT_INTERNAL, EXIT_USAGE, EXIT_WORKSPACE, main
from bot.errors import ConfigError
from bot.playground.processes import free_port
from bot.serve import bind, serve
from bot.store import StoreUnavailableError
from tests.support.alerting import sqlite_url

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("ALERTBOT_PORT", str(free_port()))
    monkeypatch.setenv("ALERTBOT_DATABASE_URL", sqlite_url(tmp_path / "alertbot.db"))


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "serving on" not in captured.out
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    assert lines[0].startswith("alertbot: ")
    return lines[0]


def test_an_unsupported_database_url_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERTBOT_DATABASE_URL", "mysql://db.example.com/alertbot")
    assert main(["serve"]) == EXIT_USAGE
    assert "unsupported database 'mysql'" in one_line(capsys)


def test_an_unparsable_database_url_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERTBOT_DATABASE_URL", "::not a url")
    assert main(["serve"]) == EXIT_USAGE
    assert "database URL: cannot be parsed" in one_line(capsys)


def test_an_unreachable_database_is_a_dependency_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    nobody = free_port()  # nothing listens there
    monkeypatch.setenv("ALERTBOT_DATABASE_URL", f"postgresql+asyncpg://u:p@127.0.0.1:{nobody}/db")
    assert main(["serve"]) == EXIT_WORKSPACE
    assert "not starting: database unavailable" in one_line(capsys)


def test_a_port_in_use_is_refused_before_anything_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("ALERTBOT_PORT", str(port))
        assert main(["serve"]) == EXIT_USAGE
    line = one_line(capsys)
    assert f"cannot listen on 127.0.0.1:{port}" in line
    assert "the port is in use" in line
    assert not (tmp_path / "alertbot.db").exists()


def test_a_missing_rules_path_stops_serve_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERTBOT_RULES_PATH", str(tmp_path / "no-such-rules"))
    assert main(["serve"]) == EXIT_USAGE
    line = one_line(capsys)
    assert "not starting: the rules are invalid" in line
    assert "no-such-rules" in line


def test_missing_azure_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERTBOT_WORKSPACE", "azure")
    assert main(["query", "print 1"]) == EXIT_USAGE
    assert one_line(capsys) == (
        "alertbot: invalid settings: "
        "ALERTBOT_AZURE_WORKSPACE_ID is required when ALERTBOT_WORKSPACE=azure"
    )


def test_an_incomplete_bot_identity_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ALERTBOT_MICROSOFT_APP_ID", "00000000-0000-0000-0000-0000000000a1")
    monkeypatch.setenv("ALERTBOT_MICROSOFT_APP_TYPE", "UserAssignedMSI")
    assert main(["serve"]) == EXIT_USAGE
    assert "ALERTBOT_MICROSOFT_APP_TENANT_ID is required" in one_line(capsys)


def test_a_misspelt_variable_in_dot_env_is_named_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text(
        "ALERTBOT_DEMO_SIZ=small\nOTHER_TOOL_TOKEN=shared .env\nALERTBOT_DEMO_DAYS=7\n"
    )
    assert main(["rules", "list"]) == EXIT_USAGE
    assert one_line(capsys) == (
        "alertbot: invalid settings: "
        "ALERTBOT_DEMO_SIZ: unknown setting in .env (see config/example.env)"
    )


@pytest.fixture
def unexpected(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("something we did not foresee\nwith a second line")

    monkeypatch.setattr(cli, "_rules", broken)


@pytest.mark.usefixtures("unexpected")
def test_an_unexpected_error_is_one_line_without_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == EXIT_INTERNAL
    line = one_line(capsys)
    assert "unexpected error: RuntimeError: something we did not foresee" in line
    assert "--debug" in line


@pytest.mark.usefixtures("unexpected")
@pytest.mark.parametrize(
    "argv",
    [["--debug", "rules", "list"], ["rules", "--debug", "list"], ["rules", "list", "--debug"]],
    ids=["before the command", "after the command", "at the end"],
)
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    with pytest.raises(RuntimeError, match="something we did not foresee"):
        main(argv)
    monkeypatch.setenv("ALERTBOT_LOG_LEVEL", "DEBUG")
    with pytest.raises(RuntimeError):
        main(["rules", "list"])


def test_output_piped_into_head_ends_quietly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_")}
    env["PYTHONPATH"] = str(ROOT)
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "query", "range x from 1 to 300000 step 1"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    assert child.stdout.readline().strip() == b"x"
    child.stdout.close()  # what `head -1` does once it has its line
    assert child.wait(timeout=120) == EXIT_BROKEN_PIPE
    assert child.stderr.read() == b""


async def test_serving_is_announced_only_once_requests_are_answered() -> None:
    port = free_port()
    started = asyncio.Event()
    answered: list[int] = []

    async def slow_start(_app: web.Application) -> AsyncIterator[None]:
        await asyncio.sleep(0.2)  # the store and workspace opening
        started.set()
        yield

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.cleanup_ctx.append(slow_start)
    app.router.add_get("/healthz", healthz)

    def announce() -> None:
        assert started.is_set()
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            answered.append(port)  # accepted: the server listens
        os.kill(os.getpid(), __import__("signal").SIGTERM)  # then stop, as an admin would

    await serve(app, bind("127.0.0.1", port), announce)
    assert answered == [port]


async def test_a_failed_start_is_never_announced() -> None:
    async def failing_store(_app: web.Application) -> AsyncIterator[None]:
        raise StoreUnavailableError("database unavailable: connection refused")
        yield

    app = web.Application()
    app.cleanup_ctx.append(failing_store)
    announced: list[bool] = []
    sock = bind("127.0.0.1", free_port())
    with pytest.raises(StoreUnavailableError):
        await serve(app, sock, lambda: announced.append(True))
    assert announced == []
    assert sock.fileno() == -1  # closed


def test_binding_a_host_that_does_not_resolve_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match=r"cannot listen on no-such-host\.invalid"):
        bind("no-such-host.invalid", free_port())
