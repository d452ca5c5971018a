"""Rate limits and interactivity response_urls of the fake Slack, through slack_sdk.

Rate limits follow docs.slack.dev/apis/web-api/rate-limits (HTTP 429, `Retry-After` in
seconds, `error: ratelimited`; chat.postMessage about one message per second per channel
with short bursts). response_url follows docs.slack.dev/interactivity/handling-user-interaction
("Message responses": replace_original, delete_original, response_type, 5 uses in 30 min).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.support.slack import POST_MESSAGE_LIMIT, FakeSlack, sample_workspace, serve_slack

ALERTS = "C0ALERTS01"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1_780_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def slack(clock: ManualClock) -> AsyncIterator[FakeSlack]:
    async with serve_slack(sample_workspace(clock=clock)) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.state.bot_token, base_url=slack.api_url)


async def test_post_message_is_paced_per_channel_with_a_small_burst(
    slack: FakeSlack, client: AsyncWebClient, clock: ManualClock
) -> None:
    slack.controls.throttle.limits["chat.postMessage"] = POST_MESSAGE_LIMIT  # 1/s, burst 3
    for n in range(3):
        await client.chat_postMessage(channel=ALERTS, text=f"burst {n}")

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=ALERTS, text="one too many")
    await client.chat_postMessage(channel="G0PRIVAT01", text="another channel has its own budget")
    clock.now += 1.0
    await client.chat_postMessage(channel=ALERTS, text="a second later")

    response = raised.value.response
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"
    assert response["error"] == "ratelimited"
    assert [m.text for m in slack.state.messages_in(ALERTS)][-1] == "a second later"
    assert len(slack.state.messages_in(ALERTS)) == 4


async def test_retry_after_says_how_long_the_bucket_needs(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    slack.controls.throttle.limit("chat.update", per_second=50 / 60, burst=1)  # Tier 3
    posted = await client.chat_postMessage(channel=ALERTS, text="x")
    elsewhere = await client.chat_postMessage(channel="G0PRIVAT01", text="x")
    await client.chat_update(channel=ALERTS, ts=posted["ts"], text="y")

    with pytest.raises(SlackApiError) as raised:  # a tier is per workspace, not per channel
        await client.chat_update(channel="G0PRIVAT01", ts=elsewhere["ts"], text="z")

    assert raised.value.response.headers["Retry-After"] == "2"  # ceil(1 / (50/60))


async def test_scripted_429s_are_retried_by_the_sdk_handler(slack: FakeSlack) -> None:
    slack.controls.throttle.throttle_next("chat.postMessage", calls=2, retry_after=1)
    client = AsyncWebClient(
        token=slack.state.bot_token,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )

    posted = await client.chat_postMessage(channel=ALERTS, text="after two 429s")

    calls = slack.state.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 429, 200]
    assert slack.state.message(ALERTS, posted["ts"]) is not None
    assert len(slack.state.messages_in(ALERTS)) == 1  # a 429 posts nothing


async def test_response_url_replaces_deletes_and_posts(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel=ALERTS, text="Fired")
    url = slack.response_urls.issue(ALERTS, posted["ts"], "U0ADMIN001")
    webhook = AsyncWebhookClient(url)

    replaced = await webhook.send(text="Acknowledged by Ada", replace_original=True)
    await webhook.send(text="Only you see this")
    await webhook.send_dict(
        {"text": "Everyone sees this", "response_type": "in_channel", "thread_ts": posted["ts"]}
    )

    state = slack.state
    message = state.message(ALERTS, posted["ts"])
    assert replaced.status_code == 200
    assert message is not None
    assert message.text == "Acknowledged by Ada"
    assert [e.text for e in message.edits] == ["Fired"]
    assert [(e.user, e.text) for e in state.ephemerals] == [("U0ADMIN001", "Only you see this")]
    assert [m.text for m in state.replies_to(ALERTS, posted["ts"])] == ["Everyone sees this"]
    deleted = await webhook.send(delete_original=True)
    assert deleted.status_code == 200
    assert state.message(ALERTS, posted["ts"]) is None
    fifth = await webhook.send(text="the fifth use")
    sixth = await webhook.send(text="too often")
    assert fifth.status_code == 200
    assert (sixth.status_code, sixth.body) == (404, "used_url")


async def test_response_url_checks_blocks_and_expires(slack: FakeSlack, clock: ManualClock) -> None:
    url = slack.response_urls.issue(ALERTS, None, "U0ADMIN001")
    webhook = AsyncWebhookClient(url)

    broken = await webhook.send(
        text="x", blocks=[{"type": "header", "text": {"type": "plain_text", "text": "H" * 151}}]
    )
    clock.now += 30 * 60 + 1
    late = await webhook.send(text="x")

    assert (broken.status_code, broken.body) == (400, "invalid_blocks")
    assert (late.status_code, late.body) == (404, "expired_url")
    assert slack.state.ephemerals == []
