"""Headless Debian Chromium driven by Playwright, for the Playground's web page.

Chromium comes from Debian (`/usr/bin/chromium`, installed by `make test`), never from
`playwright install`. It runs with the flags this machine needs (no sandbox as root, no
GPU, no background networking), and every request that is not to this machine is
aborted: the page would otherwise try to fetch fonts from a CDN.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Final

from playwright.async_api import Locator, Page, Route, async_playwright

CHROMIUM: Final = Path("/usr/bin/chromium")
FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL: Final = re.compile(r"^(https?|wss?)://(localhost|127\.0\.0\.1)(:\d+)?/|^(data|blob):")


@asynccontextmanager
async def chromium_page(url: str) -> AsyncIterator[Page]:
    """A page of a fresh headless Chromium, opened at `url`."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(FLAGS), headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            await page.route("**/*", _local_only)
            await page.goto(url)
            yield page
        finally:
            await browser.close()


async def _local_only(route: Route) -> None:
    if LOCAL.match(route.request.url):
        await route.continue_()
    else:
        await route.abort()


class Screenshots:
    """Numbered screenshots in one folder: 01-name.png, 02-..."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.taken: list[Path] = []

    async def take(self, name: str, element: Locator | None = None) -> Path:
        """The page as shown, or all of `element` (scrolled to, however tall)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        if element is None:
            await self.page.screenshot(path=path)
        else:
            await self._fit(element)
            await element.screenshot(path=path)
        self.taken.append(path)
        return path

    async def _fit(self, element: Locator) -> None:
        """Make the window tall enough for `element`: a taller one is cut off otherwise."""
        box, size = await element.bounding_box(), self.page.viewport_size
        if box and size and box["height"] + 100 > size["height"]:
            height = int(box["height"]) + 100
            await self.page.set_viewport_size({"width": size["width"], "height": height})
