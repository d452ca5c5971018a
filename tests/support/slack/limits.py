"""Block Kit limits, checked the way Slack checks a message before posting it.

Limits are those documented per block and element at docs.slack.dev/reference/block-kit
(blocks: "up to 50 blocks in each message"; section `text` 3000 and `fields` 10 × 2000;
header 150; context 10 elements; actions 25 elements; button text 75, value 2000, url 3000;
action_id and block_id 255, block_id unique in the message; select options 100 with text 75
and value 150; confirm title 100, text 300, buttons 30; image alt_text 2000; markdown block
12000; table 100 rows × 20 cells) and chat.postMessage's 40,000-character top-level `text`.

Slack answers a broken message with `invalid_blocks` and one line per problem in
`errors` / `response_metadata.messages` ("must be less than 3001 characters
[json-pointer:/blocks/0/text/text]"); blocks that are not a JSON array of objects are
`invalid_blocks_format`. The wording below mirrors those answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Final

MAX_BLOCKS: Final = 50
MAX_VIEW_BLOCKS: Final = 100
MAX_TEXT: Final = 40_000
_BLOCK_TYPES: Final = frozenset(
    {
        "actions", "context", "context_actions", "data_visualization", "divider", "file",
        "header", "image", "input", "markdown", "rich_text", "section", "table", "video",
    }
)  # fmt: skip


@dataclass
class Verdict:
    """`error` None when the blocks may be posted."""

    error: str | None = None
    errors: list[str] = field(default_factory=list)
    blocks: list[dict[str, Any]] | None = None


def check_blocks(raw: Any, *, max_blocks: int = MAX_BLOCKS) -> Verdict:
    """Parse `blocks` as sent (a JSON string from a form, a list from a JSON body) and
    check them against the documented limits (100 blocks in a modal, 50 in a message)."""
    if raw is None or raw == "":
        return Verdict()
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return Verdict("invalid_blocks_format")
    if not isinstance(raw, list) or not all(isinstance(b, dict) for b in raw):
        return Verdict("invalid_blocks_format")
    problems = _Problems()
    problems.at_most(raw, max_blocks, "/blocks")
    seen_ids: set[str] = set()
    for index, block in enumerate(raw):
        _check_block(block, f"/blocks/{index}", problems, seen_ids)
    if problems.lines:
        return Verdict("invalid_blocks", problems.lines)
    return Verdict(blocks=raw)


def text_too_long(text: Any) -> bool:
    return isinstance(text, str) and len(text) > MAX_TEXT


class _Problems:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, what: str, pointer: str) -> None:
        self.lines.append(f"{what} [json-pointer:{pointer}]")

    def at_most(self, items: Any, limit: int, pointer: str) -> None:
        if isinstance(items, list) and len(items) > limit:
            self.add(f"no more than {limit} items allowed", pointer)

    def length(self, value: Any, limit: int, pointer: str, *, required: bool = False) -> None:
        if value is None:
            if required:
                self.add("must provide a string", pointer)
            return
        if not isinstance(value, str):
            self.add("must be a string", pointer)
        elif len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", pointer)
        elif required and not value:
            self.add("must be more than 0 characters", pointer)

    def text_object(
        self, value: Any, limit: int, pointer: str, *, plain_only: bool = False
    ) -> None:
        if not isinstance(value, dict):
            self.add("must provide an object", pointer)
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if value.get("type") not in kinds:
            self.add(f"must be one of {', '.join(kinds)}", f"{pointer}/type")
        self.length(value.get("text"), limit, f"{pointer}/text", required=True)


def _check_block(block: dict[str, Any], at: str, problems: _Problems, seen_ids: set[str]) -> None:
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        problems.add("unsupported block type", f"{at}/type")
        return
    block_id = block.get("block_id")
    if block_id is not None:
        problems.length(block_id, 255, f"{at}/block_id")
        if block_id in seen_ids:
            problems.add("duplicate block_id", f"{at}/block_id")
        seen_ids.add(str(block_id))
    checker = _BLOCK_CHECKS.get(str(kind))
    if checker is not None:
        checker(block, at, problems)


def _section(block: dict[str, Any], at: str, problems: _Problems) -> None:
    text, fields = block.get("text"), block.get("fields")
    if text is None and not fields:
        problems.add("must provide either text or fields", at)
    if text is not None:
        problems.text_object(text, 3000, f"{at}/text")
    if fields is not None:
        problems.at_most(fields, 10, f"{at}/fields")
        for index, item in enumerate(fields if isinstance(fields, list) else []):
            problems.text_object(item, 2000, f"{at}/fields/{index}")
    if isinstance(block.get("accessory"), dict):
        _check_element(block["accessory"], f"{at}/accessory", problems)


def _header(block: dict[str, Any], at: str, problems: _Problems) -> None:
    problems.text_object(block.get("text"), 150, f"{at}/text", plain_only=True)


def _context(block: dict[str, Any], at: str, problems: _Problems) -> None:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        problems.add("must provide at least 1 item", f"{at}/elements")
        return
    problems.at_most(elements, 10, f"{at}/elements")
    for index, element in enumerate(elements):
        if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
            problems.text_object(element, 3000, f"{at}/elements/{index}")


def _actions(block: dict[str, Any], at: str, problems: _Problems) -> None:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        problems.add("must provide at least 1 item", f"{at}/elements")
        return
    problems.at_most(elements, 25, f"{at}/elements")
    action_ids: set[str] = set()
    for index, element in enumerate(elements):
        pointer = f"{at}/elements/{index}"
        if not isinstance(element, dict):
            problems.add("must provide an object", pointer)
            continue
        _check_element(element, pointer, problems)
        action_id = element.get("action_id")
        if isinstance(action_id, str):
            if action_id in action_ids:
                problems.add("duplicate action_id", f"{pointer}/action_id")
            action_ids.add(action_id)


def _image(block: dict[str, Any], at: str, problems: _Problems) -> None:
    problems.length(block.get("alt_text"), 2000, f"{at}/alt_text", required=True)
    if "slack_file" not in block:
        problems.length(block.get("image_url"), 3000, f"{at}/image_url", required=True)
    if block.get("title") is not None:
        problems.text_object(block["title"], 2000, f"{at}/title", plain_only=True)


def _markdown(block: dict[str, Any], at: str, problems: _Problems) -> None:
    problems.length(block.get("text"), 12_000, f"{at}/text", required=True)


def _table(block: dict[str, Any], at: str, problems: _Problems) -> None:
    rows = block.get("rows")
    if not isinstance(rows, list) or not rows:
        problems.add("must provide at least 1 item", f"{at}/rows")
        return
    problems.at_most(rows, 100, f"{at}/rows")
    for index, row in enumerate(rows):
        problems.at_most(row, 20, f"{at}/rows/{index}")


def _input(block: dict[str, Any], at: str, problems: _Problems) -> None:
    problems.text_object(block.get("label"), 2000, f"{at}/label", plain_only=True)
    if isinstance(block.get("element"), dict):
        _check_element(block["element"], f"{at}/element", problems)


_BLOCK_CHECKS: Final = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "image": _image,
    "markdown": _markdown,
    "table": _table,
    "input": _input,
}


def _check_element(element: dict[str, Any], at: str, problems: _Problems) -> None:
    problems.length(element.get("action_id"), 255, f"{at}/action_id")
    kind = element.get("type")
    if kind == "button":
        problems.text_object(element.get("text"), 75, f"{at}/text", plain_only=True)
        problems.length(element.get("value"), 2000, f"{at}/value")
        problems.length(element.get("url"), 3000, f"{at}/url")
        style = element.get("style")
        if style is not None and style not in ("primary", "danger"):
            problems.add("must be one of primary, danger", f"{at}/style")
    elif kind in ("static_select", "multi_static_select", "overflow", "radio_buttons"):
        _options(element, at, problems, 5 if kind == "overflow" else 100)
    if element.get("placeholder") is not None:
        problems.text_object(element["placeholder"], 150, f"{at}/placeholder", plain_only=True)
    if isinstance(element.get("confirm"), dict):
        _confirm(element["confirm"], f"{at}/confirm", problems)


def _options(element: dict[str, Any], at: str, problems: _Problems, limit: int) -> None:
    groups = element.get("option_groups")
    options = element.get("options")
    if options is None and groups is None:
        problems.add("must provide options or option_groups", at)
        return
    problems.at_most(options, limit, f"{at}/options")
    for index, option in enumerate(options if isinstance(options, list) else []):
        pointer = f"{at}/options/{index}"
        if not isinstance(option, dict):
            problems.add("must provide an object", pointer)
            continue
        problems.text_object(option.get("text"), 75, f"{pointer}/text")
        problems.length(option.get("value"), 150, f"{pointer}/value", required=True)


def _confirm(confirm: dict[str, Any], at: str, problems: _Problems) -> None:
    problems.text_object(confirm.get("title"), 100, f"{at}/title", plain_only=True)
    problems.text_object(confirm.get("text"), 300, f"{at}/text")
    problems.text_object(confirm.get("confirm"), 30, f"{at}/confirm", plain_only=True)
    problems.text_object(confirm.get("deny"), 30, f"{at}/deny", plain_only=True)
