"""conversations.history and conversations.replies of the fake Slack, after their pages at
docs.slack.dev/reference/methods/conversations.history and .../conversations.replies:
a conversation's messages (newest first, thread replies left out unless also sent to the
channel) or a thread (its parent first, then the replies oldest first), within
`oldest`/`latest` (exclusive unless `inclusive`), at most `limit` (default 100, at most
999); a message's `metadata` only with `include_all_metadata`. Errors: channel_not_found,
not_in_channel, thread_not_found. One page: `has_more` says whether more was left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tests.support.slack.state import SlackChannel, SlackMessage, SlackState

Body = dict[str, Any]


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _channel(state: SlackState, value: Any) -> SlackChannel | None:
    channel = state.channels.get(str(value or ""))
    return None if channel is None or channel.deleted else channel


def _listed(message: SlackMessage, *, team_id: str, with_metadata: bool) -> Body:
    """A message as conversations.history / .replies list it: metadata only when asked
    with include_all_metadata."""
    body = message.to_json(team_id=team_id)
    if not with_metadata:
        body.pop("metadata", None)
    return body


def _in_range(message: SlackMessage, args: Mapping[str, Any]) -> bool:
    """`oldest` / `latest` (exclusive unless `inclusive`), as both methods take them."""
    ts, inclusive = float(message.ts), _truthy(args.get("inclusive"))
    oldest, latest = args.get("oldest"), args.get("latest")
    if oldest is not None and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
        return False
    return latest is None or ts < float(latest) or (ts == float(latest) and inclusive)


def _limit(args: Mapping[str, Any]) -> int:
    return max(1, min(int(args.get("limit") or 100), 999))


def conversations_history(ctx: Any, args: Mapping[str, Any]) -> Body:
    """docs.slack.dev/reference/methods/conversations.history: the channel's messages,
    newest first, without thread replies (unless also sent to the channel); `limit`
    (default 100, at most 999), `oldest`/`latest`/`inclusive`, `include_all_metadata`."""
    channel = _channel(ctx.state, args.get("channel"))
    if channel is None:
        return {"ok": False, "error": "channel_not_found"}
    if not channel.is_im and not channel.is_member:
        return {"ok": False, "error": "not_in_channel"}
    messages = [
        m
        for m in ctx.state.messages_in(channel.id, include_replies=True)
        if (not m.is_reply or m.reply_broadcast) and _in_range(m, args)
    ]
    newest = sorted(messages, key=lambda m: float(m.ts), reverse=True)
    page, limit = newest[: _limit(args)], _limit(args)
    with_metadata = _truthy(args.get("include_all_metadata"))
    listed = [_listed(m, team_id=ctx.state.team_id, with_metadata=with_metadata) for m in page]
    return {
        "ok": True,
        "messages": listed,
        "has_more": len(newest) > limit,
        "pin_count": 0,
        "response_metadata": {"next_cursor": ""},
    }


def conversations_replies(ctx: Any, args: Mapping[str, Any]) -> Body:
    """docs.slack.dev/reference/methods/conversations.replies: the thread of `ts`, its
    parent first, then the replies oldest first; same range, limit and metadata arguments."""
    channel = _channel(ctx.state, args.get("channel"))
    if channel is None:
        return {"ok": False, "error": "channel_not_found"}
    parent = ctx.state.message(channel.id, str(args.get("ts", "")))
    if parent is None:
        return {"ok": False, "error": "thread_not_found"}
    thread = [parent, *ctx.state.replies_to(channel.id, parent.ts)]
    chosen = [m for m in thread if m is parent or _in_range(m, args)][: _limit(args)]
    with_metadata = _truthy(args.get("include_all_metadata"))
    listed = [_listed(m, team_id=ctx.state.team_id, with_metadata=with_metadata) for m in chosen]
    return {
        "ok": True,
        "messages": listed,
        "has_more": False,
        "response_metadata": {"next_cursor": ""},
    }
