"""Signed Slack requests (tests/support/slack_requests.py), checked by slack_sdk's own
SignatureVerifier and by a real slack-bolt AsyncApp mounted on aiohttp with
`slack_bolt.adapter.aiohttp`, as the bot will mount it.

Follows docs.slack.dev/authentication/verifying-requests-from-slack (v0 base string,
HMAC-SHA256, 5-minute window), docs.slack.dev/apis/events-api (url_verification,
event_callback, X-Slack-Retry-Num / X-Slack-Retry-Reason),
docs.slack.dev/reference/interaction-payloads/block_actions-payload and
docs.slack.dev/interactivity/implementing-slash-commands.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.slack import FakeSlack
from tests.support.slack_requests import SlackRequests, button, select

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
ALERTS = "C0ALERTS01"


def test_signatures_match_slacks_documented_example() -> None:
    # The worked example of the "Verifying requests from Slack" page.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&"
        b"channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&"
        b"command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
        b"trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    requests = SlackRequests(signing_secret=SECRET, clock=lambda: 1531420618)

    signed = requests.sign(body, "application/x-www-form-urlencoded")

    assert signed.headers["X-Slack-Signature"] == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


@pytest.mark.parametrize("kind", ["event", "interaction", "command"])
def test_slack_sdk_verifier_accepts_fresh_and_refuses_stale_or_forged(kind: str) -> None:
    now = time.time()
    requests = SlackRequests(signing_secret=SECRET, clock=lambda: now)
    if kind == "event":
        signed = requests.signed_json(
            requests.event_callback(requests.message_im("U1", "D1", "hi"))
        )
    elif kind == "interaction":
        signed = requests.signed_interaction(
            requests.view_submission(user="U1", callback_id="c", values={})
        )
    else:
        signed = requests.signed_form(
            requests.slash_command(
                command="/entra", text="help", user="U1", channel="C1", response_url="x"
            )
        )
    verifier = SignatureVerifier(SECRET)
    stale = SlackRequests(signing_secret=SECRET, clock=lambda: now - 301)

    assert verifier.is_valid_request(signed.body, signed.headers)
    assert not verifier.is_valid_request(
        stale.sign(signed.body, "x").body, stale.sign(signed.body, "x").headers
    )
    assert not verifier.is_valid_request(signed.body + b" ", signed.headers)
    assert not SignatureVerifier("another-secret").is_valid_request(signed.body, signed.headers)


@pytest.fixture
async def bolt_app(fake_slack: FakeSlack) -> AsyncApp:
    client = AsyncWebClient(token=fake_slack.state.bot_token, base_url=fake_slack.api_url)
    return AsyncApp(client=client, signing_secret=SECRET)


@pytest.fixture
async def endpoint(bolt_app: AsyncApp, aiohttp_server: Any) -> str:
    async def slack_events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await bolt_app.async_dispatch(await to_bolt_request(request))
        )

    app = web.Application()
    app.router.add_post("/slack/events", slack_events)
    server = await aiohttp_server(app)
    return str(server.make_url("/slack/events"))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_bolt_answers_url_verification_and_refuses_bad_signatures(
    endpoint: str, session: aiohttp.ClientSession
) -> None:
    requests = SlackRequests(signing_secret=SECRET)
    challenge = requests.url_verification()
    signed = requests.signed_json(challenge)

    async with await signed.post(session, endpoint) as answer:
        assert answer.status == 200
        assert (await answer.json()) == {"challenge": challenge["challenge"]}
    forged = signed.with_headers(**{"X-Slack-Signature": "v0=" + "0" * 64})
    async with await forged.post(session, endpoint) as answer:
        assert answer.status == 401
    stale = SlackRequests(signing_secret=SECRET, clock=lambda: time.time() - 600).signed_json(
        challenge
    )
    async with await stale.post(session, endpoint) as answer:
        assert answer.status == 401


async def test_bolt_sees_event_retries(
    bolt_app: AsyncApp, endpoint: str, session: aiohttp.ClientSession
) -> None:
    retries: list[tuple[str | None, str | None]] = []

    @bolt_app.event("member_left_channel")
    async def left(request: Any) -> None:  # AsyncBoltRequest; headers are lists
        headers = request.headers
        retries.append(
            (
                next(iter(headers.get("x-slack-retry-num", [])), None),
                next(iter(headers.get("x-slack-retry-reason", [])), None),
            )
        )

    requests = SlackRequests(signing_secret=SECRET)
    body = requests.event_callback(
        requests.member_left_channel("U0BOT00001", ALERTS), event_id="Ev0001"
    )
    for signed in (
        requests.signed_json(body),
        requests.signed_json(body, retry_num=1, retry_reason="http_timeout"),
    ):
        async with await signed.post(session, endpoint) as answer:
            assert answer.status == 200

    assert retries == [(None, None), ("1", "http_timeout")]


async def test_bolt_handles_a_signed_button_and_a_select_click(
    fake_slack: FakeSlack,
    bolt_app: AsyncApp,
    endpoint: str,
    session: aiohttp.ClientSession,
    slack_client: AsyncWebClient,
) -> None:
    clicks: list[tuple[str, str]] = []

    @bolt_app.action("alert.ack")
    async def acknowledge(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        clicks.append((body["user"]["id"], body["actions"][0]["value"]))
        container = body["container"]
        await client.chat_update(
            channel=container["channel_id"], ts=container["message_ts"], text="Acked"
        )

    @bolt_app.action("alert.snooze")
    async def snooze(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        clicks.append((body["user"]["id"], body["actions"][0]["selected_option"]["value"]))
        await respond(text="Snoozed for 4 h", replace_original=True)

    posted = await slack_client.chat_postMessage(channel=ALERTS, text="Fired")
    requests = SlackRequests(signing_secret=SECRET)
    url = fake_slack.response_urls.issue(ALERTS, posted["ts"], "U0ADMIN001")
    for action in (
        button("alert.ack", "alert-42", "Acknowledge"),
        select("alert.snooze", "4h", "4 hours"),
    ):
        payload = requests.block_actions(
            user="U0ADMIN001",
            channel=ALERTS,
            message=posted["message"],
            action=action,
            response_url=url,
        )
        signed = requests.signed_interaction(payload)
        assert parse_qs(signed.body.decode())["payload"] == [json.dumps(payload)]
        async with await signed.post(session, endpoint) as answer:
            assert answer.status == 200

    message = fake_slack.state.message(ALERTS, posted["ts"])
    assert clicks == [("U0ADMIN001", "alert-42"), ("U0ADMIN001", "4h")]
    assert message is not None
    assert [e.text for e in message.edits] == ["Fired", "Acked"]
    assert message.text == "Snoozed for 4 h"


async def test_bolt_answers_a_signed_slash_command(
    bolt_app: AsyncApp, endpoint: str, session: aiohttp.ClientSession
) -> None:
    @bolt_app.command("/entra")
    async def command(ack: Any, command: dict[str, Any]) -> None:
        await ack(text=f"{command['user_id']} asked {command['text']!r}")

    requests = SlackRequests(signing_secret=SECRET)
    fields = requests.slash_command(
        command="/entra",
        text="list rules",
        user="U0READ0001",
        channel=ALERTS,
        response_url="http://x",
    )
    async with await requests.signed_form(fields).post(session, endpoint) as answer:
        assert answer.status == 200
        # bolt sends an ack carrying only text as text/plain
        assert (await answer.text()) == "U0READ0001 asked 'list rules'"
