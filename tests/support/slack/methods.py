"""The Web API methods the fake answers, over `SlackState`.

Each follows its page at docs.slack.dev/reference/methods/<method> (arguments, the
response example, the listed errors). Every answer is HTTP 200 with `ok` true or false,
as Slack answers; authentication and rate limits are decided before a method runs
(server.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from tests.support.slack.history import conversations_history, conversations_replies
from tests.support.slack.limits import MAX_VIEW_BLOCKS, check_blocks, text_too_long
from tests.support.slack.state import (
    Edit,
    Ephemeral,
    SlackChannel,
    SlackMessage,
    SlackState,
    UploadedFile,
)

Body = dict[str, Any]


@dataclass(frozen=True)
class Context:
    state: SlackState
    base_url: str


Method = Callable[[Context, Mapping[str, Any]], Body]


def ok(**fields: Any) -> Body:
    return {"ok": True, **fields}


def fail(error: str, **fields: Any) -> Body:
    return {"ok": False, "error": error, **fields}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


# --- conversations -------------------------------------------------------------------


def _find_channel(state: SlackState, value: Any) -> SlackChannel | None:
    """A conversation by id, or by `#name` / name as chat.postMessage accepts."""
    if not isinstance(value, str) or not value:
        return None
    channel = state.channels.get(value)
    if channel is None:
        name = value.removeprefix("#")
        channel = next((c for c in state.channels.values() if c.name == name), None)
    return None if channel is None or channel.deleted else channel


def _post_target(state: SlackState, value: Any) -> SlackChannel | str:
    """Where a post goes, or the error: a user id (U…/W…) posts into the app's DM with them."""
    if isinstance(value, str) and value[:1] in ("U", "W") and value in state.users:
        return state.im_with(value)
    channel = _find_channel(state, value)
    if channel is None:
        return "channel_not_found"
    if channel.is_archived:
        return "is_archived"
    public_ok = state.chat_write_public and not channel.is_private
    if not channel.is_im and not channel.is_member and not public_ok:
        return "not_in_channel"
    return channel


def _blocks_failure(
    raw: Any, *, max_blocks: int | None = None
) -> tuple[Body | None, list[dict[str, Any]] | None]:
    verdict = check_blocks(raw) if max_blocks is None else check_blocks(raw, max_blocks=max_blocks)
    if verdict.error is None:
        return None, verdict.blocks
    extra: dict[str, Any] = {}
    if verdict.errors:
        extra = {
            "errors": verdict.errors,
            "response_metadata": {"messages": [f"[ERROR] {line}" for line in verdict.errors]},
        }
    return fail(verdict.error, **extra), None


def chat_post_message(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    target = _post_target(state, args.get("channel"))
    if isinstance(target, str):
        return fail(target)
    failure, blocks = _blocks_failure(args.get("blocks"))
    if failure is not None:
        return failure
    text = args.get("text")
    if not text and blocks is None and not args.get("attachments"):
        return fail("no_text")
    if text_too_long(text):
        return fail("msg_too_long")
    metadata = args.get("metadata")
    message = SlackMessage(
        channel=target.id,
        ts=state.next_ts(),
        text=str(text or ""),
        blocks=blocks,
        user=state.bot_user_id,
        bot_id=state.bot_id,
        thread_ts=args.get("thread_ts") or None,
        reply_broadcast=_truthy(args.get("reply_broadcast")),
        metadata=json.loads(metadata) if isinstance(metadata, str) else metadata,
    )
    state.messages.setdefault(target.id, []).append(message)
    return ok(channel=target.id, ts=message.ts, message=message.to_json(team_id=state.team_id))


def chat_update(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    channel = state.channels.get(str(args.get("channel", "")))
    if channel is None or channel.deleted:
        return fail("channel_not_found")
    if channel.is_archived:
        return fail("is_archived")
    message = state.message(channel.id, str(args.get("ts", "")))
    if message is None:
        return fail("message_not_found")
    if message.bot_id != state.bot_id:
        return fail("cant_update_message")
    failure, blocks = _blocks_failure(args.get("blocks"))
    if failure is not None:
        return failure
    text = args.get("text")
    if text_too_long(text):
        return fail("msg_too_long")
    if text is None and blocks is None and args.get("blocks") is None:
        return fail("no_text")
    replace(state, message, text, blocks, keep_blocks=args.get("blocks") is None)
    return ok(
        channel=channel.id,
        ts=message.ts,
        text=message.text,
        message=message.to_json(team_id=state.team_id),
    )


def replace(
    state: SlackState,
    message: SlackMessage,
    text: Any,
    blocks: list[dict[str, Any]] | None,
    *,
    keep_blocks: bool,
) -> None:
    """Edit in place, keeping the earlier version in `edits` (chat.update keeps the old
    blocks when none are sent; an empty list removes them)."""
    message.edits.append(Edit(state.clock(), message.text, message.blocks))
    if text is not None:
        message.text = str(text)
    if not keep_blocks:
        message.blocks = blocks or None


def chat_post_ephemeral(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    target = _post_target(state, args.get("channel"))
    if isinstance(target, str):
        return fail(target)
    user = str(args.get("user", ""))
    if user not in state.users:
        return fail("user_not_found")
    if target.members and user not in target.members:
        return fail("user_not_in_channel")
    failure, blocks = _blocks_failure(args.get("blocks"))
    if failure is not None:
        return failure
    text = args.get("text")
    if not text and blocks is None and not args.get("attachments"):
        return fail("no_text")
    if text_too_long(text):
        return fail("msg_too_long")
    ts = state.next_ts()
    thread_ts = args.get("thread_ts") or None
    state.ephemerals.append(Ephemeral(target.id, user, ts, str(text or ""), blocks, thread_ts))
    return ok(message_ts=ts)


def chat_get_permalink(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    channel = _find_channel(state, args.get("channel"))
    if channel is None:
        return fail("channel_not_found")
    message = state.message(channel.id, str(args.get("message_ts", "")))
    if message is None:
        return fail("message_not_found")
    digits = message.ts.replace(".", "")
    link = f"https://{state.team_domain}.slack.com/archives/{channel.id}/p{digits}"
    if message.is_reply:
        link += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return ok(channel=channel.id, permalink=link)


def conversations_info(ctx: Context, args: Mapping[str, Any]) -> Body:
    channel = ctx.state.channels.get(str(args.get("channel", "")))
    if channel is None or channel.deleted or (channel.is_private and not channel.is_member):
        return fail("channel_not_found")
    return ok(channel=channel.to_json())


def conversations_open(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    if args.get("channel"):
        channel = state.channels.get(str(args["channel"]))
        if channel is None or not channel.is_im:
            return fail("channel_not_found")
        return ok(
            channel=channel.to_json() if _truthy(args.get("return_im")) else {"id": channel.id}
        )
    users = [u for u in str(args.get("users", "")).split(",") if u]
    if not users:
        return fail("users_list_not_supplied")
    if len(users) > 1:  # group DMs (mpim) are not modelled here
        return fail("fake_slack_has_no_group_dms")
    user = state.users.get(users[0])
    if user is None:
        return fail("user_not_found")
    if user.deleted:
        return fail("user_disabled")
    if user.id == state.bot_user_id:
        return fail("cannot_dm_bot")
    existed = any(c.is_im and c.im_user == user.id for c in state.channels.values())
    channel = state.im_with(user.id)
    body = channel.to_json() if _truthy(args.get("return_im")) else {"id": channel.id}
    return ok(no_op=True, already_open=True, channel=body) if existed else ok(channel=body)


# --- people --------------------------------------------------------------------------


def users_info(ctx: Context, args: Mapping[str, Any]) -> Body:
    user = ctx.state.users.get(str(args.get("user", "")))
    return fail("user_not_found") if user is None else ok(user=user.to_json())


def users_lookup_by_email(ctx: Context, args: Mapping[str, Any]) -> Body:
    email = str(args.get("email", "")).lower()
    for user in ctx.state.users.values():
        if user.email is not None and user.email.lower() == email and not user.deleted:
            return ok(user=user.to_json())
    return fail("users_not_found")


def usergroups_users_list(ctx: Context, args: Mapping[str, Any]) -> Body:
    group = str(args.get("usergroup", ""))
    if group not in ctx.state.usergroups:
        return fail("no_such_subteam")
    return ok(users=list(ctx.state.usergroups[group]))


def auth_test(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    return ok(
        url=f"https://{state.team_domain}.slack.com/",
        team=state.team_name,
        user="alertbot",
        team_id=state.team_id,
        user_id=state.bot_user_id,
        bot_id=state.bot_id,
        is_enterprise_install=False,
    )


# --- files (the flow files_upload_v2 uses) -------------------------------------------


#: files.getUploadURLExternal: "alt_txt_too_large: Description for the image is longer
#: than the limit of 1000 characters".
MAX_ALT_TXT: Final = 1000


def files_get_upload_url_external(ctx: Context, args: Mapping[str, Any]) -> Body:
    filename = args.get("filename")
    length = str(args.get("length", ""))
    if not filename or not length.isdigit():
        return fail("invalid_arguments")
    if int(length) == 0:  # "missing_argument: typically only when the length is 0"
        return fail("missing_argument")
    if len(str(args.get("alt_txt") or "")) > MAX_ALT_TXT:
        return fail("alt_txt_too_large")
    file_id = ctx.state.new_id("F")
    ctx.state.files[file_id] = UploadedFile(
        file_id, str(filename), int(length), alt_txt=args.get("alt_txt")
    )
    return ok(upload_url=f"{ctx.base_url}/upload/v1/{file_id}", file_id=file_id)


def files_complete_upload_external(ctx: Context, args: Mapping[str, Any]) -> Body:
    state = ctx.state
    try:
        items = json.loads(str(args.get("files", "")))
    except ValueError:
        return fail("invalid_arguments")
    if not isinstance(items, list) or not items:
        return fail("invalid_arguments")
    uploads = [state.files.get(str(item.get("id"))) for item in items if isinstance(item, dict)]
    if len(uploads) != len(items) or any(u is None or u.content is None for u in uploads):
        return fail("file_not_found")
    channel_id = args.get("channel_id") or args.get("channels")
    target: SlackChannel | None = None
    if channel_id:
        found = _post_target(state, str(channel_id).split(",")[0])
        if isinstance(found, str):
            return fail(found)
        target = found
    answered = []
    for item, upload in zip(items, uploads, strict=True):
        assert upload is not None
        upload.title = str(item.get("title") or upload.filename)
        upload.completed = True
        if target is not None:
            upload.channels.append(target.id)
        answered.append({"id": upload.id, "title": upload.title})
    if target is not None:
        message = SlackMessage(
            channel=target.id,
            ts=state.next_ts(),
            text=str(args.get("initial_comment") or ""),
            user=state.bot_user_id,
            bot_id=state.bot_id,
            thread_ts=args.get("thread_ts") or None,
            files=[u.to_json() for u in uploads if u is not None],
            via="files.completeUploadExternal",
        )
        state.messages.setdefault(target.id, []).append(message)
    return ok(files=answered)


def files_info(ctx: Context, args: Mapping[str, Any]) -> Body:
    upload = ctx.state.files.get(str(args.get("file", "")))
    if upload is None or not upload.completed:
        return fail("file_not_found")
    return ok(file=upload.to_json(), comments=[], response_metadata={"next_cursor": ""})


# --- modals ----------------------------------------------------------------------------


def views_open(ctx: Context, args: Mapping[str, Any]) -> Body:
    """A modal (docs.slack.dev/reference/methods/views.open, .../surfaces/modals): title,
    submit and close ≤ 24 characters, ≤ 100 blocks, callback_id ≤ 255, private_metadata
    ≤ 3000. A trigger_id is needed; this fake cannot tell an expired one (Slack: 3 s)."""
    if not args.get("trigger_id"):
        return fail("invalid_trigger_id")
    view = args.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            return fail("invalid_arguments")
    if not isinstance(view, dict) or view.get("type") != "modal":
        return fail("invalid_arguments")
    problems = _view_problems(view)
    if problems:
        return fail("invalid_arguments", response_metadata={"messages": problems})
    failure, blocks = _blocks_failure(view.get("blocks"), max_blocks=MAX_VIEW_BLOCKS)
    if failure is not None:
        return failure
    view_id = ctx.state.new_id("V")
    stored = {**view, "id": view_id, "team_id": ctx.state.team_id, "blocks": blocks or []}
    ctx.state.views[view_id] = stored
    return ok(view=stored)


def _view_problems(view: Mapping[str, Any]) -> list[str]:
    problems = []
    for key in ("title", "submit", "close"):
        item = view.get(key)
        text = item.get("text") if isinstance(item, dict) else None
        if key == "title" and not text:
            problems.append("[ERROR] missing required field: title [json-pointer:/view/title]")
        if isinstance(text, str) and len(text) > 24:
            problems.append(
                f"[ERROR] must be less than 25 characters [json-pointer:/view/{key}/text]"
            )
    for key, limit in (("callback_id", 255), ("private_metadata", 3000)):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            problems.append(
                f"[ERROR] must be less than {limit + 1} characters [json-pointer:/view/{key}]"
            )
    return problems


METHODS: Final[dict[str, Method]] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.info": conversations_info,
    "conversations.open": conversations_open,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "usergroups.users.list": usergroups_users_list,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
    "files.info": files_info,
    "views.open": views_open,
}

#: Scopes checked per method (each method's page, "Scopes"; the rest are not checked):
#: the file upload methods need `files:write`, files.info `files:read`.
SCOPES: Final[dict[str, str]] = {
    "files.getUploadURLExternal": "files:write",
    "files.completeUploadExternal": "files:write",
    "files.info": "files:read",
}
