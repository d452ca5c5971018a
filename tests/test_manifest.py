"""The Teams app package: schema-valid manifest, right icons, commands from the help data."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from bot.cli import main
from bot.command_help import COMMANDS
from bot.errors import ConfigError
from bot.manifest import MANIFEST_DIR, SCOPES, build_manifest, write_package
from bot.settings import Settings
from bot.views import CommandHelp

SCHEMA = MANIFEST_DIR / "schema" / "MicrosoftTeams.schema.json"
APP_ID = "6417b88f-b93c-4137-8a73-e7e3daadd60a"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("ALERTBOT_"):
            monkeypatch.delenv(name)


def settings(**overrides: Any) -> Settings:
    return Settings(_env_file=None, microsoft_app_id=APP_ID, **overrides)  # type: ignore[call-arg]


def png_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and PNG colour type, from the IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height, _depth, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, color_type


@pytest.fixture
def package(tmp_path: Path) -> zipfile.ZipFile:
    return zipfile.ZipFile(write_package(settings(), COMMANDS, tmp_path / "dist" / "app.zip"))


def test_the_zip_holds_manifest_and_icons_at_its_root(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_is_valid_against_the_saved_schema(package: zipfile.ZipFile) -> None:
    manifest = json.loads(package.read("manifest.json"))
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    assert manifest["manifestVersion"] == "1.24"
    assert manifest["$schema"].endswith("/teams/v1.24/MicrosoftTeams.schema.json")


def test_the_schema_check_is_not_vacuous() -> None:
    manifest = build_manifest(settings(), COMMANDS)
    manifest["bots"][0]["scopes"].append("everywhere")
    manifest["name"]["short"] = "x" * 31
    schema = json.loads(SCHEMA.read_text())
    assert len(list(jsonschema.Draft4Validator(schema).iter_errors(manifest))) == 2


def test_icons_have_the_sizes_teams_requires(package: zipfile.ZipFile) -> None:
    assert png_size(package.read("color.png"))[:2] == (192, 192)
    width, height, color_type = png_size(package.read("outline.png"))
    assert (width, height) == (32, 32)
    assert color_type == 6  # RGBA: white on transparent


def test_outline_icon_is_white_on_transparent() -> None:
    import zlib

    data = (MANIFEST_DIR / "outline.png").read_bytes()
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    stride = 1 + 32 * 4
    pixels = [
        raw[r * stride + 1 + c * 4 : r * stride + 5 + c * 4] for r in range(32) for c in range(32)
    ]
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels)
    alphas = {p[3] for p in pixels}
    assert 0 in alphas
    assert 255 in alphas


def test_bot_scopes_and_command_lists_follow_the_help_data(package: zipfile.ZipFile) -> None:
    manifest = json.loads(package.read("manifest.json"))
    bot = manifest["bots"][0]
    assert bot["botId"] == manifest["id"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False
    assert [entry["scopes"] for entry in bot["commandLists"]] == [[scope] for scope in SCOPES]
    for entry in bot["commandLists"]:
        shown = COMMANDS[:12]  # Teams' limit per list; the rest are typed (and in help)
        assert [c["title"] for c in entry["commands"]] == [c.name for c in shown]
        for listed, command in zip(entry["commands"], shown, strict=True):
            assert listed["description"] == f"{command.usage}: {command.description}"


def test_at_most_twelve_commands_per_scope() -> None:
    many = [CommandHelp(name=f"c{'x' * n}", usage="c", description="d") for n in range(20)]
    manifest = build_manifest(settings(), many)
    assert all(len(entry["commands"]) == 12 for entry in manifest["bots"][0]["commandLists"])


def test_settings_fill_name_version_and_developer() -> None:
    manifest = build_manifest(
        settings(
            teams_app_name="Contoso Alerts",
            teams_app_version="2.3.4",
            teams_developer_name="Contoso",
            teams_developer_url="https://contoso.example",
        ),
        COMMANDS,
    )
    assert manifest["name"]["short"] == "Contoso Alerts"
    assert manifest["version"] == "2.3.4"
    assert manifest["developer"]["name"] == "Contoso"
    assert manifest["developer"]["websiteUrl"] == "https://contoso.example"


def test_no_app_id_no_package(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ALERTBOT_MICROSOFT_APP_ID"):
        write_package(Settings(_env_file=None), COMMANDS, tmp_path / "app.zip")  # type: ignore[call-arg]
    assert not (tmp_path / "app.zip").exists()


def test_the_cli_builds_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALERTBOT_MICROSOFT_APP_ID", APP_ID)
    assert main(["manifest", "--out", "dist/app.zip"]) == 0
    assert zipfile.is_zipfile(tmp_path / "dist" / "app.zip")
    assert capsys.readouterr().out.strip() == "dist/app.zip"
    monkeypatch.delenv("ALERTBOT_MICROSOFT_APP_ID")
    assert main(["manifest", "--out", "dist/other.zip"]) == 2
    assert "ALERTBOT_MICROSOFT_APP_ID" in capsys.readouterr().err


def test_web_application_info_names_the_bot_app(package: zipfile.ZipFile) -> None:
    """Graph's TeamsAppInstallation.ReadWriteSelfForUser.All lets the app install only
    itself, which Teams knows from webApplicationInfo.id (notices to a person)."""
    manifest = json.loads(package.read("manifest.json"))
    info = manifest["webApplicationInfo"]
    assert info["id"] == manifest["bots"][0]["botId"]
    assert info["resource"] == f"api://botid-{info['id']}"
