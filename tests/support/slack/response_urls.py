"""Interactivity `response_url`s (docs.slack.dev/interactivity/handling-user-interaction,
"Message responses"): a JSON POST with `text` / `blocks` and one of

- `replace_original: true` — the message the action came from is replaced (an edit),
- `delete_original: true` — it is deleted,
- otherwise a new message: `response_type: "in_channel"` visible to all (optionally in a
  thread with `thread_ts`), `"ephemeral"` (the default) only to the user who clicked.

A URL may be used up to 5 times within 30 minutes. Beyond that, and for URLs never
issued, this fake answers 404 `expired_url` / `used_url` [not documented verbatim; chosen
so a client sees a clear refusal]. Broken blocks answer 400 `invalid_blocks` as text, as
Slack's incoming-webhook style endpoints do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Final

from tests.support.slack.limits import check_blocks, text_too_long
from tests.support.slack.methods import replace
from tests.support.slack.state import Ephemeral, SlackMessage, SlackState

MAX_USES: Final = 5
LIFETIME: Final = 30 * 60.0


@dataclass
class ResponseTarget:
    channel: str
    message_ts: str | None
    user: str
    issued_at: float
    uses: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ResponseUrls:
    state: SlackState
    base_url: str = ""
    targets: dict[str, ResponseTarget] = field(default_factory=dict)

    def issue(self, channel: str, message_ts: str | None, user: str) -> str:
        """A response_url for an interaction by `user` on message `message_ts` in `channel`
        (None for a slash command, which has no source message)."""
        key = uuid.uuid4().hex
        self.targets[key] = ResponseTarget(channel, message_ts, user, self.state.clock())
        return f"{self.base_url}/response_url/{key}"

    def use(self, key: str, body: Any) -> tuple[int, str]:
        target = self.targets.get(key)
        state = self.state
        if target is None or state.clock() - target.issued_at > LIFETIME:
            return 404, "expired_url"
        if len(target.uses) >= MAX_USES:
            return 404, "used_url"
        if not isinstance(body, dict):
            return 400, "invalid_payload"
        verdict = check_blocks(body.get("blocks"))
        if verdict.error is not None:
            return 400, verdict.error
        text = body.get("text")
        if text_too_long(text):
            return 400, "msg_too_long"
        target.uses.append(body)
        if body.get("delete_original") is True:
            return self._delete(target)
        if body.get("replace_original") is True:
            return self._replace(target, text, verdict.blocks, keep_blocks="blocks" not in body)
        if not text and verdict.blocks is None:
            return 400, "no_text"
        return self._post(target, body, str(text or ""), verdict.blocks)

    def _delete(self, target: ResponseTarget) -> tuple[int, str]:
        message = self._source(target)
        if message is None:
            return 404, "message_not_found"
        message.deleted = True
        return 200, "ok"

    def _replace(
        self, target: ResponseTarget, text: Any, blocks: Any, *, keep_blocks: bool
    ) -> tuple[int, str]:
        message = self._source(target)
        if message is None:
            return 404, "message_not_found"
        replace(self.state, message, text, blocks, keep_blocks=keep_blocks)
        return 200, "ok"

    def _post(
        self, target: ResponseTarget, body: dict[str, Any], text: str, blocks: Any
    ) -> tuple[int, str]:
        state = self.state
        thread_ts = body.get("thread_ts") or None
        if body.get("response_type") == "in_channel":
            message = SlackMessage(
                channel=target.channel,
                ts=state.next_ts(),
                text=text,
                blocks=blocks,
                user=state.bot_user_id,
                bot_id=state.bot_id,
                thread_ts=thread_ts,
                via="response_url",
            )
            state.messages.setdefault(target.channel, []).append(message)
        else:
            state.ephemerals.append(
                Ephemeral(target.channel, target.user, state.next_ts(), text, blocks, thread_ts)
            )
        return 200, "ok"

    def _source(self, target: ResponseTarget) -> SlackMessage | None:
        if target.message_ts is None:
            return None
        return self.state.message(target.channel, target.message_ts)
