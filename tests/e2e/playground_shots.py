"""Screenshots of the cards as the Agents Playground shows them, one PNG per card.

With `make run` started (and its page not yet opened elsewhere: the Playground keeps no
history), run `.venv/bin/python -m tests.e2e.playground_shots [OUT_DIR]` (default
test-artifacts/playground/). It opens the page in headless Debian chromium, opens the
demo channel, waits for the alert cards and the digest, and saves each card as the page
draws it (about 446 px wide, the width Teams gives a card in a channel), then the
Personal Chat with the security notice. Look at the PNGs: the Playground's own renderer
showed overlaps that the npm renderer of tests/cards/screenshots.py did not.
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Final

from tests.e2e.browser import chromium_page

URL: Final = "http://localhost:56150"
CHANNEL: Final = re.compile("Entra alerts")
EXPECTED_CARDS: Final = 13
WAIT_SECONDS: Final = 120


async def shoot(out: Path) -> list[Path]:
    taken: list[Path] = []
    async with chromium_page(URL) as page:
        await page.get_by_role("treeitem", name=CHANNEL).click()
        cards = page.locator(".ac-adaptiveCard")
        for _ in range(WAIT_SECONDS):
            if await cards.count() >= EXPECTED_CARDS:
                break
            await page.wait_for_timeout(1000)
        for i in range(await cards.count()):
            card = cards.nth(i)
            await card.scroll_into_view_if_needed()
            box = await card.bounding_box()
            if box and box["height"] + 200 > 1000:
                await page.set_viewport_size({"width": 1400, "height": int(box["height"]) + 200})
            taken.append(out / f"card-{i:02d}.png")
            await card.screenshot(path=taken[-1])
        await page.get_by_role("treeitem", name=re.compile("Personal")).first.click()
        await page.wait_for_timeout(3000)
        taken.append(out / "personal-chat.png")
        await page.screenshot(path=taken[-1])
    return taken


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("test-artifacts/playground")
    out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(shoot(out)):
        print(path)


if __name__ == "__main__":
    main()
