"""The fake Slack Web API driven by the real slack_sdk AsyncWebClient.

Follows docs.slack.dev/reference/methods/{chat.postMessage, chat.update,
chat.postEphemeral, chat.getPermalink, conversations.info, conversations.open, users.info,
users.lookupByEmail, usergroups.users.list, auth.test, files.getUploadURLExternal,
files.completeUploadExternal, files.info} for arguments, answers and errors;
docs.slack.dev/authentication/tokens for token errors.
"""

from __future__ import annotations

import time

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack import FakeSlack
from tests.support.slack.state import SlackMessage

ALERTS = "C0ALERTS01"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Rule fired*"}}


async def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call  # type: ignore[misc]
    return str(raised.value.response["error"])


async def test_post_update_and_thread_keep_state(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(channel=ALERTS, text="Fired", blocks=[SECTION])
    assert posted["channel"] == ALERTS
    assert posted["message"]["bot_id"] == fake_slack.state.bot_id
    ts = posted["ts"]

    updated = await slack_client.chat_update(channel=ALERTS, ts=ts, text="Acknowledged")
    reply = await slack_client.chat_postMessage(channel=ALERTS, thread_ts=ts, text="Resolved")

    state = fake_slack.state
    [parent] = state.messages_in(ALERTS)
    assert updated["message"]["text"] == "Acknowledged"
    assert parent.text == "Acknowledged"
    assert parent.blocks == [SECTION]  # chat.update keeps blocks it was not sent
    assert [e.text for e in parent.edits] == ["Fired"]
    assert [m.ts for m in state.replies_to(ALERTS, ts)] == [reply["ts"]]
    assert reply["ts"] > ts
    link = await slack_client.chat_getPermalink(channel=ALERTS, message_ts=reply["ts"])
    assert link["permalink"] == (
        f"https://acme.slack.com/archives/{ALERTS}/p{reply['ts'].replace('.', '')}"
        f"?thread_ts={ts}&cid={ALERTS}"
    )
    assert [c.method for c in state.calls] == [
        "chat.postMessage",
        "chat.update",
        "chat.postMessage",
        "chat.getPermalink",
    ]


async def test_empty_blocks_remove_them_and_update_needs_the_channel_id(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    posted = await slack_client.chat_postMessage(
        channel="#entra-alerts", text="x", blocks=[SECTION]
    )
    await slack_client.chat_update(channel=ALERTS, ts=posted["ts"], text="y", blocks=[])

    assert fake_slack.state.messages_in(ALERTS)[0].blocks is None
    assert (
        await error_of(slack_client.chat_update(channel="#entra-alerts", ts=posted["ts"], text="z"))
        == "channel_not_found"
    )


async def test_errors_follow_the_channel_state(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    state = fake_slack.state
    posted = await slack_client.chat_postMessage(channel=ALERTS, text="x")

    assert (
        await error_of(slack_client.chat_postMessage(channel="C0NOBOT001", text="x"))
        == "not_in_channel"
    )
    assert (
        await error_of(slack_client.chat_postMessage(channel="C0ARCHIV01", text="x"))
        == "is_archived"
    )
    assert (
        await error_of(slack_client.chat_postMessage(channel="C0NOSUCH01", text="x"))
        == "channel_not_found"
    )
    with pytest.warns(UserWarning, match="top-level `text`"):
        assert await error_of(slack_client.chat_postMessage(channel=ALERTS)) == "no_text"
    assert (
        await error_of(slack_client.chat_update(channel=ALERTS, ts="1.000001", text="x"))
        == "message_not_found"
    )

    state.chat_write_public = True  # the scope lets an app post in public channels it is not in
    await slack_client.chat_postMessage(channel="C0NOBOT001", text="x")
    state.chat_write_public = False
    state.channels[ALERTS].is_member = False  # the bot was removed
    assert (
        await error_of(slack_client.chat_postMessage(channel=ALERTS, text="x")) == "not_in_channel"
    )
    state.channels[ALERTS].is_archived = True
    assert (
        await error_of(slack_client.chat_update(channel=ALERTS, ts=posted["ts"], text="y"))
        == "is_archived"
    )
    state.channels[ALERTS].deleted = True
    assert await error_of(slack_client.conversations_info(channel=ALERTS)) == "channel_not_found"


async def test_someone_elses_message_cannot_be_updated(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    state = fake_slack.state
    ts = state.next_ts()
    state.messages[ALERTS].append(
        SlackMessage(ALERTS, ts, "a person wrote this", user="U0READ0001")
    )

    assert (
        await error_of(slack_client.chat_update(channel=ALERTS, ts=ts, text="x"))
        == "cant_update_message"
    )


async def test_tokens_are_checked(fake_slack: FakeSlack) -> None:
    state = fake_slack.state
    anonymous = AsyncWebClient(base_url=fake_slack.api_url)
    wrong = AsyncWebClient(token="xoxb-not-ours", base_url=fake_slack.api_url)
    app_level = AsyncWebClient(token=state.app_token, base_url=fake_slack.api_url)
    bot = AsyncWebClient(token=state.bot_token, base_url=fake_slack.api_url)

    assert await error_of(anonymous.auth_test()) == "not_authed"
    assert await error_of(wrong.auth_test()) == "invalid_auth"
    assert (
        await error_of(app_level.chat_postMessage(channel=ALERTS, text="x"))
        == "not_allowed_token_type"
    )
    assert (
        await error_of(bot.apps_connections_open(app_token=state.bot_token))
        == "not_allowed_token_type"
    )
    who = await bot.auth_test()
    assert (who["team_id"], who["user_id"], who["bot_id"]) == (
        state.team_id,
        state.bot_user_id,
        state.bot_id,
    )
    state.token_status = "revoked"
    assert await error_of(bot.auth_test()) == "token_revoked"
    state.token_status = "inactive"
    assert await error_of(bot.chat_postMessage(channel=ALERTS, text="x")) == "account_inactive"


async def test_people_groups_and_direct_messages(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    found = await slack_client.users_lookupByEmail(email="Ada@contoso.com")
    assert found["user"]["id"] == "U0ADMIN001"
    assert found["user"]["profile"]["email"] == "ada@contoso.com"
    assert (
        await error_of(slack_client.users_lookupByEmail(email="nobody@contoso.com"))
        == "users_not_found"
    )
    assert await error_of(slack_client.users_info(user="U0NOSUCH01")) == "user_not_found"
    assert (await slack_client.usergroups_users_list(usergroup="S0ADMINS01"))["users"] == [
        "U0ADMIN001"
    ]
    assert (
        await error_of(slack_client.usergroups_users_list(usergroup="S0NOSUCH01"))
        == "no_such_subteam"
    )

    opened = await slack_client.conversations_open(users="U0ADMIN001")
    again = await slack_client.conversations_open(users=["U0ADMIN001"])
    dm = opened["channel"]["id"]
    assert dm.startswith("D")
    assert again["channel"]["id"] == dm
    assert again["already_open"]
    posted = await slack_client.chat_postMessage(channel=dm, text="Was this you?")
    by_user_id = await slack_client.chat_postMessage(channel="U0ADMIN001", text="again")
    assert by_user_id["channel"] == dm
    assert [m.ts for m in fake_slack.state.messages_in(dm)] == [posted["ts"], by_user_id["ts"]]
    info = await slack_client.conversations_info(channel=dm)
    assert info["channel"]["is_im"]
    assert info["channel"]["user"] == "U0ADMIN001"
    assert await error_of(slack_client.conversations_open(users="U0GONE0001")) == "user_disabled"


async def test_ephemeral_messages_go_to_members_only(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    answer = await slack_client.chat_postEphemeral(
        channel=ALERTS, user="U0READ0001", text="Only admins"
    )
    [ephemeral] = fake_slack.state.ephemerals

    assert (ephemeral.user, ephemeral.message_ts) == ("U0READ0001", answer["message_ts"])
    assert fake_slack.state.messages_in(ALERTS) == []
    assert (
        await error_of(
            slack_client.chat_postEphemeral(channel="G0PRIVAT01", user="U0GONE0001", text="x")
        )
        == "user_not_in_channel"
    )


async def test_blocks_built_with_slack_sdk_models_pass(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    blocks = [
        HeaderBlock(text="H" * 150),
        SectionBlock(text="s" * 3000, fields=["f" * 2000] * 10),
        ActionsBlock(
            elements=[
                ButtonElement(text="b" * 75, action_id=f"a{i}", value="v" * 2000) for i in range(25)
            ]
        ),
    ]
    await slack_client.chat_postMessage(channel=ALERTS, text="t" * 40_000, blocks=blocks)

    assert len(fake_slack.state.messages_in(ALERTS)) == 1


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [
        ([SECTION] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
        (
            [{"type": "header", "text": {"type": "plain_text", "text": "H" * 151}}],
            "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [{"type": "section", "text": {"type": "mrkdwn", "text": "s" * 3001}}],
            "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        _b := {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "b" * 76},
                            "action_id": "a",
                        }
                    ],
                }
            ],
            "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {**_b, "text": {"type": "plain_text", "text": "ok"}, "action_id": "a" * 256}
                    ],
                }
            ],
            "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {**_b, "text": {"type": "plain_text", "text": "ok"}, "value": "v" * 2001}
                    ],
                }
            ],
            "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
        ),
        (
            [
                {
                    "type": "actions",
                    "elements": [
                        {**_b, "text": {"type": "plain_text", "text": "ok"}, "action_id": f"a{i}"}
                        for i in range(26)
                    ],
                }
            ],
            "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
        ),
        (
            [{"type": "section", "block_id": "x", "text": SECTION["text"]}] * 2,
            "duplicate block_id [json-pointer:/blocks/1/block_id]",
        ),
        ([{"type": "carousel"}], "unsupported block type [json-pointer:/blocks/0/type]"),
    ],
)
async def test_blocks_over_the_documented_limits_are_invalid_blocks(
    fake_slack: FakeSlack,
    slack_client: AsyncWebClient,
    blocks: list[dict[str, object]],
    pointer: str,
) -> None:
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=ALERTS, text="x", blocks=blocks)

    assert raised.value.response["error"] == "invalid_blocks"
    assert pointer in raised.value.response["errors"]
    assert f"[ERROR] {pointer}" in raised.value.response["response_metadata"]["messages"]
    assert fake_slack.state.messages_in(ALERTS) == []


async def test_unparseable_blocks_and_long_text(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    form = slack_client.api_call("chat.postMessage", data={"channel": ALERTS, "blocks": "[{oops"})
    assert await error_of(form) == "invalid_blocks_format"
    not_a_list = slack_client.api_call(
        "chat.postMessage", json={"channel": ALERTS, "blocks": {"type": "divider"}}
    )
    assert await error_of(not_a_list) == "invalid_blocks_format"
    assert (
        await error_of(slack_client.chat_postMessage(channel=ALERTS, text="t" * 40_001))
        == "msg_too_long"
    )
    posted = await slack_client.chat_postMessage(channel=ALERTS, text="x")
    assert (
        await error_of(slack_client.chat_update(channel=ALERTS, ts=posted["ts"], text="t" * 40_001))
        == "msg_too_long"
    )


async def test_files_upload_v2_shares_the_file_in_the_thread(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    parent = await slack_client.chat_postMessage(channel=ALERTS, text="Trend")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

    done = await slack_client.files_upload_v2(
        channel=ALERTS,
        content=png,
        filename="trend.png",
        title="Sign-ins",
        thread_ts=parent["ts"],
        initial_comment="Last 7 days",
    )

    state = fake_slack.state
    [upload] = state.files.values()
    assert done["file"]["id"] == upload.id
    assert upload.content == png
    [reply] = state.replies_to(ALERTS, parent["ts"])
    assert reply.text == "Last 7 days"
    assert (reply.files[0]["name"], reply.files[0]["size"]) == ("trend.png", len(png))
    assert [c.method for c in state.calls][1:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    state.scopes.add("files:read")  # files.info's scope (the bot's manifest does not ask it)
    info = await slack_client.files_info(file=upload.id)
    assert info["file"]["mimetype"] == "image/png"
    assert info["file"]["channels"] == [ALERTS]


async def test_file_uploads_need_files_write_and_check_their_arguments(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    state = fake_slack.state
    assert await error_of(slack_client.files_info(file="F0NONE0001")) == "missing_scope"
    assert (
        await error_of(slack_client.files_getUploadURLExternal(filename="a.png", length=0))
        == "missing_argument"
    )
    too_long = slack_client.files_getUploadURLExternal(
        filename="a.png", length=10, alt_txt="x" * 1001
    )
    assert await error_of(too_long) == "alt_txt_too_large"
    state.scopes.discard("files:write")
    call = slack_client.files_upload_v2(channel=ALERTS, content=b"png", filename="a.png")
    assert await error_of(call) == "missing_scope"
    refused = state.calls[-1]
    assert (refused.method, refused.error) == ("files.getUploadURLExternal", "missing_scope")
    assert state.files == {}


async def test_files_upload_into_a_channel_without_the_bot_fails_at_completion(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    call = slack_client.files_upload_v2(channel="C0NOBOT001", content="x", filename="a.txt")

    assert await error_of(call) == "not_in_channel"
    assert fake_slack.state.messages_in("C0NOBOT001") == []


async def test_duplicates_are_counted(fake_slack: FakeSlack, slack_client: AsyncWebClient) -> None:
    first = await slack_client.chat_postMessage(channel=ALERTS, text="Fired", blocks=[SECTION])
    await slack_client.chat_postMessage(channel=ALERTS, text="Fired", blocks=[SECTION])
    await slack_client.chat_postMessage(channel=ALERTS, text="Other")
    await slack_client.chat_postMessage(channel=ALERTS, text="Fired", thread_ts=first["ts"])

    assert fake_slack.state.duplicates(ALERTS) == 1


async def test_scripted_failures_and_latency(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    controls = fake_slack.controls
    controls.fail_next("chat.postMessage", "fatal_error")
    controls.fail_next("chat.postMessage", status=503)
    controls.latency.per_method["auth.test"] = 0.3

    assert await error_of(slack_client.chat_postMessage(channel=ALERTS, text="x")) == "fatal_error"
    with pytest.raises(SlackApiError) as raised:
        await slack_client.chat_postMessage(channel=ALERTS, text="x")
    assert raised.value.response.status_code == 503
    started = time.monotonic()
    await slack_client.auth_test()
    assert time.monotonic() - started >= 0.3
    await slack_client.chat_postMessage(channel=ALERTS, text="x")
    assert [c.status for c in fake_slack.state.calls_to("chat.postMessage")] == [200, 503, 200]
    assert [c.error for c in fake_slack.state.calls_to("chat.postMessage")] == [
        "fatal_error",
        None,
        None,
    ]


async def test_views_open_checks_the_modal(
    fake_slack: FakeSlack, slack_client: AsyncWebClient
) -> None:
    view = {
        "type": "modal",
        "callback_id": "show_query",
        "title": {"type": "plain_text", "text": "Query"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [SECTION] * 100,
    }

    opened = await slack_client.views_open(trigger_id="1.2.abc", view=view)
    too_long = {**view, "title": {"type": "plain_text", "text": "T" * 25}}
    with pytest.raises(SlackApiError) as raised:
        await slack_client.views_open(trigger_id="1.2.abc", view=too_long)
    too_many = {**view, "blocks": [SECTION] * 101}

    assert fake_slack.state.views[opened["view"]["id"]]["callback_id"] == "show_query"
    assert raised.value.response["error"] == "invalid_arguments"
    assert await error_of(slack_client.views_open(trigger_id="1.2.abc", view=too_many)) == (
        "invalid_blocks"
    )
    assert await error_of(slack_client.views_open(trigger_id="", view=view)) == "invalid_trigger_id"
