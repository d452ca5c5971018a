"""The product as an admin installs it: the built wheel in a fresh virtualenv, outside the
checkout, runs every command with only what the wheel ships.

`python -m build` builds the sdist, then the wheel from the sdist (so both are checked);
pip installs the wheel exactly as the Dockerfile does, from this machine's package index
and cache. The commands run in an empty directory with no ALERTBOT_* settings: the card
templates, catalogs, manifest template and icons must come from the installed package.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from bot.playground.processes import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "00000000-0000-0000-0000-0000000000a1"


def build_and_install(base: Path) -> Path:
    """Build the sdist and the wheel, install the wheel in a fresh virtualenv under `base`."""
    dist = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("entra_alertbot-*.whl")
    assert len(list(dist.glob("entra_alertbot-*.tar.gz"))) == 1
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True)
    pip = base / "venv" / "bin" / "pip"
    subprocess.run([str(pip), "install", "--quiet", str(wheel)], check=True, capture_output=True)
    return base / "venv"


def clean_env(**settings: str) -> dict[str, str]:
    kept = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("ALERTBOT_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    return kept | {f"ALERTBOT_{k.upper()}": v for k, v in settings.items()}


def alertbot(
    venv: Path, cwd: Path, *args: str, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "alertbot"), *args],
        cwd=cwd,
        env=clean_env(**settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def check_the_package_is_the_installed_one_with_its_data(venv: Path, workdir: Path) -> None:
    shown = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import bot, bot.channels.teams.cards.render as r;"
            " print(bot.__file__); print(r.TEMPLATES_DIR)",
        ],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert all(line.startswith(str(venv)) for line in shown), shown
    assert Path(shown[1]).name == "templates"
    assert (Path(shown[1]) / "alert.json").is_file()


def check_rules_validate_uses_the_shipped_catalog(venv: Path, workdir: Path) -> None:
    done = alertbot(venv, workdir, "rules", "validate")
    assert done.returncode == 0, done.stderr
    assert "valid rules" in done.stdout
    assert " 0 errors" in done.stdout


def check_query_runs_on_the_demo_workspace(venv: Path, workdir: Path) -> None:
    done = alertbot(venv, workdir, "query", "print x=1", "--format", "json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert (answer["columns"][0]["name"], answer["rows"]) == ("x", [[1]])


def check_ask_uses_the_shipped_question_catalog(venv: Path, workdir: Path) -> None:
    done = alertbot(venv, workdir, "ask", "provisioning failures last 24h")
    assert done.returncode == 0, done.stdout + done.stderr


def check_manifest_uses_the_shipped_template_and_icons(venv: Path, workdir: Path) -> None:
    done = alertbot(venv, workdir, "manifest", "--out", "app.zip", microsoft_app_id=APP_ID)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(workdir / "app.zip") as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert APP_ID in package.read("manifest.json").decode()


def check_serve_answers_healthz_and_stops_on_sigterm(venv: Path, workdir: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [str(venv / "bin" / "alertbot"), "serve"],
        cwd=workdir,
        env=clean_env(port=str(port), scheduler_enabled="false"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # printed once serving, not before
        assert line.strip() == f"alertbot serving on http://127.0.0.1:{port}", (
            line + server.stderr.read() if server.stderr else line
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as answer:
            assert answer.status == 200
        assert (workdir / "var" / "alertbot.db").is_file()  # the default, in the workdir
    finally:
        server.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = server.wait(timeout=60)
    assert code == 0
    assert time.monotonic() - started < 30


def test_the_installed_wheel_runs_every_command(tmp_path: Path) -> None:
    """One test, so that the wheel is built and installed once (not once per xdist worker)."""
    venv = build_and_install(tmp_path / "install")
    for check in (
        check_the_package_is_the_installed_one_with_its_data,
        check_rules_validate_uses_the_shipped_catalog,
        check_query_runs_on_the_demo_workspace,
        check_ask_uses_the_shipped_question_catalog,
        check_manifest_uses_the_shipped_template_and_icons,
        check_serve_answers_healthz_and_stops_on_sigterm,
    ):
        workdir = tmp_path / check.__name__  # an empty directory far from the checkout
        workdir.mkdir()
        assert ROOT not in workdir.parents
        check(venv, workdir)
