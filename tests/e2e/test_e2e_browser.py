"""A smoke test through the Playground's web page in headless Chromium, as a person uses
it: post a command in the team channel, see the alert card, press Acknowledge, see the
card change. Screenshots of each step go to test-artifacts/e2e/<this test>/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from tests.e2e.browser import Screenshots, chromium_page
from tests.e2e.teams import TeamsWorld

RULE = "access-review-deleted"
TITLE = "An access review was deleted"
#: Generous for a loaded CI machine; here each step takes well under a second.
STEP_MS = 20_000


async def test_a_command_posted_from_the_page_brings_a_card_that_acknowledge_changes(
    teams: TeamsWorld, artifacts: Path
) -> None:
    ids = teams.admin.ids
    await teams.subscribe_channel()

    async with chromium_page(teams.admin.client.url) as page:
        shots = Screenshots(page, artifacts)
        await page.get_by_role("treeitem", name=re.compile(ids.channel_name)).click()
        await shots.take("channel")

        await _post(page, ids.bot_name, f"run {RULE}")
        # The alert's card: posted in the channel as a thread of its own (the first card
        # on the page; `run` also answers in the command's thread with a copy).
        card = page.locator(".ac-adaptiveCard").filter(has_text=TITLE).first
        await expect(card).to_contain_text("Firing since", timeout=STEP_MS)
        await shots.take("posted")
        await shots.take("alert-card", card)

        await card.get_by_role("button", name="Acknowledge").click()
        await expect(card).to_contain_text("Acknowledged by Alex Wilber", timeout=STEP_MS)
        await expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
        await shots.take("acknowledged-card", card)
    assert all(path.stat().st_size > 0 for path in shots.taken)


async def _post(page: Page, bot_name: str, command: str) -> None:
    """Start a new post in the open channel: `@<bot>` chosen from the mention picker, then
    the command, then Post."""
    box = page.locator('[role="textbox"][contenteditable="true"]').first
    await box.click()
    await box.press_sequentially(f"@{bot_name.split()[0]}")
    await page.get_by_role("menuitem", name=bot_name).click()
    await box.press_sequentially(f" {command}")
    await page.get_by_role("button", name="Post").click()
