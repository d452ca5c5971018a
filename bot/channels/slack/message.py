"""A Slack message as chat.postMessage / chat.update take it: blocks and a top-level text,
and the chart to share beside it as an image (bot.channels.slack.chart_upload)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block

from bot.channels.slack.text import FALLBACK_TEXT, MAX_BLOCKS, clip
from bot.views.query_views import Chart


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """`text` is always set: Slack shows it in notifications and to screen readers. `chart`
    is not part of the message: it is shared as an image after the message is posted (the
    blocks hold its numbers as a table)."""

    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    chart: Chart | None = None

    def arguments(self) -> dict[str, Any]:
        return {"text": clip(self.text, FALLBACK_TEXT), "blocks": self.blocks}

    def problems(self) -> list[str]:
        """What breaks Slack's documented limits (slack_sdk's own checks, per block)."""
        found = []
        if len(self.blocks) > MAX_BLOCKS:
            found.append(f"{len(self.blocks)} blocks, at most {MAX_BLOCKS}")
        for index, block in enumerate(self.blocks):
            parsed = Block.parse(block)
            if parsed is None:
                found.append(f"block {index}: unknown type {block.get('type')!r}")
                continue
            try:
                parsed.validate_json()
            except Exception as error:  # SlackObjectFormationError, and what it wraps
                found.append(f"block {index} ({block.get('type')}): {error}")
        return found

    def size(self) -> int:
        return len(json.dumps(self.blocks, ensure_ascii=False))
