"""Build the sideloadable Teams app package: manifest.json, color.png and outline.png, zipped.

manifest/manifest.template.json is filled from settings (app id, name, version,
developer) and the command help data (one command list per bot scope); the icons are
copied as they are. `alertbot manifest --out dist/app.zip` calls `write_package`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from bot.channels.teams.cards.binder import bind
from bot.errors import ConfigError
from bot.resources import manifest_dir
from bot.settings import ENV_PREFIX, Settings
from bot.views.model import CommandHelp

MANIFEST_DIR: Final = manifest_dir()
TEMPLATE: Final = "manifest.template.json"
ICONS: Final = ("color.png", "outline.png")
#: The bot's scopes, each with its own command list (Teams shows at most 12 per list).
SCOPES: Final = ("personal", "team", "groupChat")
MAX_COMMANDS: Final = 12


def command_lists(commands: Sequence[CommandHelp]) -> list[dict[str, Any]]:
    """The same commands in every scope: every command works in chats and channels alike."""
    entries = [
        {"title": command.name, "description": f"{command.usage}: {command.description}"}
        for command in commands[:MAX_COMMANDS]
    ]
    return [{"scope": scope, "commands": entries} for scope in SCOPES]


def build_manifest(
    settings: Settings, commands: Sequence[CommandHelp], *, manifest_dir: Path = MANIFEST_DIR
) -> dict[str, Any]:
    """manifest.json's content; ConfigError if a required setting is missing."""
    if not settings.microsoft_app_id:
        raise ConfigError(
            [f"{ENV_PREFIX}MICROSOFT_APP_ID: required to build the Teams app package"]
        )
    data = {
        "app_id": settings.microsoft_app_id,
        "version": settings.teams_app_version,
        "name": settings.teams_app_name,
        "developer": {
            "name": settings.teams_developer_name,
            "website_url": settings.teams_developer_url,
            "privacy_url": settings.teams_privacy_url,
            "terms_url": settings.teams_terms_url,
        },
        "command_lists": command_lists(commands),
    }
    template = json.loads((manifest_dir / TEMPLATE).read_text(encoding="utf-8"))
    manifest: dict[str, Any] = bind(template, data)
    return manifest


def write_package(
    settings: Settings,
    commands: Sequence[CommandHelp],
    out: Path,
    *,
    manifest_dir: Path = MANIFEST_DIR,
) -> Path:
    """Write the zip Teams sideloads (files at its root, as Teams requires) to `out`."""
    manifest = build_manifest(settings, commands, manifest_dir=manifest_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon in ICONS:
            package.write(manifest_dir / icon, arcname=icon)
    return out
