"""Where the files the bot ships with are: the one place every reader asks.

The repository keeps them in top-level folders beside bot/: config/ (the default rule
and question catalogs, example.env) and manifest/ (the Teams app manifest template, icons
and schema); card templates live inside the package (bot/channels/teams/cards/templates).
The wheel ships the folders as package data under bot/_shipped/ (pyproject.toml maps
them there at build time, without moving them), read through importlib.resources. Run
from the checkout (editable install, tests), no bot/_shipped/ exists and the checkout's
own folders are used.

User files (ALERTBOT_RULES_PATH, ALERTBOT_QUESTIONS_PATH, the database) come from
settings; only their defaults point here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final, Literal

#: Where the wheel puts the shipped folders, inside the package.
SHIPPED: Final = "_shipped"

Folder = Literal["config", "manifest"]


def shipped(folder: Folder) -> Path:
    """The shipped folder's directory on disk (installed or in the checkout)."""
    package = files("bot")
    if not isinstance(package, Path):  # a zipped install: no directory to hand out
        raise RuntimeError("the bot package must be installed on disk, not zipped")
    installed = package / SHIPPED / folder
    return installed if installed.is_dir() else package.parent / folder


def config_dir() -> Path:
    """The default rule catalog (rules/) and question catalog (questions/)."""
    return shipped("config")


def manifest_dir() -> Path:
    """The Teams app manifest template, its icons and its JSON schema."""
    return shipped("manifest")
