"""Screenshots of every sample card at the width Teams gives a card in a channel (450 px).

Run: `.venv/bin/python -m tests.cards.screenshots [OUT_DIR] [NAME_FILTER]` (default
test-artifacts/cards/). Each card is rendered by the npm `adaptivecards` renderer (the
one Teams' own renderer derives from; node_modules/adaptivecards) with a host config
close to Teams' light theme, in headless Debian chromium through Playwright, and saved
as one PNG per card. Look at the PNGs: overlap and split words show up there, not in JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Final

from bot.channels.teams.cards import CardRenderer
from tests.cards.samples import answer_views, sample_views

ROOT: Final = Path(__file__).resolve().parents[2]
RENDERER_JS: Final = ROOT / "node_modules" / "adaptivecards" / "dist" / "adaptivecards.js"
CHROMIUM: Final = "/usr/bin/chromium"
WIDTH: Final = 450
#: Close to Teams' light theme: Segoe UI-like font, its text colours and spacing.
HOST_CONFIG: Final[dict[str, Any]] = {
    "fontFamily": "'Segoe UI', 'Helvetica Neue', Arial, sans-serif",
    "spacing": {"small": 4, "default": 8, "medium": 12, "large": 16, "extraLarge": 24},
    "fontSizes": {"small": 12, "default": 14, "medium": 14, "large": 18, "extraLarge": 24},
    "containerStyles": {
        "default": {
            "backgroundColor": "#ffffff",
            "foregroundColors": {
                "default": {"default": "#242424", "subtle": "#616161"},
                "accent": {"default": "#5b5fc7", "subtle": "#5b5fc7"},
                "attention": {"default": "#c4314b", "subtle": "#c4314b"},
                "good": {"default": "#237b4b", "subtle": "#237b4b"},
                "warning": {"default": "#835c00", "subtle": "#835c00"},
            },
        },
        "emphasis": {"backgroundColor": "#f5f5f5"},
        "attention": {"backgroundColor": "#fcf4f6"},
        "warning": {"backgroundColor": "#fbf6d9"},
        "good": {"backgroundColor": "#e7f2da"},
        "accent": {"backgroundColor": "#e8ebfa"},
    },
    "factSet": {
        "title": {"weight": "bolder", "wrap": True, "maxWidth": 150},
        "value": {"wrap": True},
        "spacing": 8,
    },
}
_ARGS: Final = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_PAGE: Final = """<!doctype html><html><head><meta charset="utf-8">
<style>body{margin:0;background:#ebebeb;font-family:'Segoe UI',Arial,sans-serif}
#card{width:%dpx;background:#fff;margin:8px;border-radius:4px;overflow:hidden}</style>
</head><body><div id="card"></div></body></html>"""
_RENDER_JS: Final = """([card, host]) => {
  const ac = new AdaptiveCards.AdaptiveCard();
  ac.hostConfig = new AdaptiveCards.HostConfig(host);
  ac.parse(card);
  const el = document.getElementById('card');
  el.innerHTML = '';
  el.appendChild(ac.render());
  for (const b of el.querySelectorAll('button[aria-expanded]')) b.click();
  return el.scrollHeight;
}"""


def cards() -> dict[str, dict[str, Any]]:
    renderer = CardRenderer()
    views = {**sample_views(), **answer_views()}
    return {name: renderer.render(view) for name, view in views.items()}


def screenshot(out: Path, only: str = "") -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=_ARGS)
        page = browser.new_page(viewport={"width": WIDTH + 16, "height": 800})
        page.route("**/*", lambda route: route.abort())  # nothing leaves the machine
        page.set_content(_PAGE % WIDTH)
        page.add_script_tag(content=RENDERER_JS.read_text(encoding="utf-8"))
        for name, card in cards().items():
            if only not in name:
                continue
            page.evaluate(_RENDER_JS, [card, HOST_CONFIG])
            path = out / f"{name}.png"
            page.locator("#card").screenshot(path=str(path))
            written.append(path)
        browser.close()
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "test-artifacts" / "cards"
    for png in screenshot(target, sys.argv[2] if len(sys.argv) > 2 else ""):
        print(png)
