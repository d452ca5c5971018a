"""Charts shared as images in Slack, against the local Slack Web API (tests/support/slack:
files.getUploadURLExternal, the upload URL and files.completeUploadExternal, after
docs.slack.dev/reference/methods/files.getUploadURLExternal and .../files.completeUploadExternal).

A trend question asked with a mention gets its answer in the thread and then the chart as a
PNG in the same thread, with a title and alt text; when Slack refuses the upload (no
`files:write`, 429) the answer stands alone with its table. The provisioning digest
delivered through the outbox gets its chart in the digest's thread, once."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.alerts.reload import RuleBook
from bot.app import create_app
from bot.channels.delivery import ChannelNotifier
from bot.channels.presenter import AlertPresenter
from bot.channels.slack import SlackChannel
from bot.channels.slack.connector import SlackConnector
from bot.channels.slack.conversations import conversation_ref
from bot.channels.slack.message import SlackMessage
from bot.models import AlertEvent, AlertEventKind, ChannelKind
from bot.notify import DeliveryResult
from bot.store import new_outbox_item
from bot.store.sql import SqlStore
from tests.cards.digest_samples import digest_views
from tests.channels.slack.test_slack_app import (  # noqa: F401 (fixtures)
    ALERTS,
    READER,
    Harness,
    _clean_environment,
    eventually,
    settings,
)
from tests.channels.slack.test_slack_delivery import CONVERSATION, TEAM
from tests.channels.teams.conftest import MakeClient
from tests.support.slack import FakeSlack

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
QUESTION = "provisioning actions per day"


@pytest.fixture
async def bot(aiohttp_client: MakeClient, tmp_path: Path, fake_slack: FakeSlack) -> Harness:
    """The whole bot as `alertbot serve` builds it, Slack in HTTP mode (test_slack_app)."""
    client = await aiohttp_client(create_app(settings(tmp_path, fake_slack)))
    return Harness(client, fake_slack)


async def ask(harness: Harness, ts: str) -> Any:
    event = harness.requests.app_mention(READER, ALERTS, QUESTION, ts=ts)
    signed = harness.requests.signed_json(harness.requests.event_callback(event))
    return await harness.post(signed)


def answer_in(slack: FakeSlack, ts: str) -> Any:
    return next((m for m in slack.state.replies_to(ALERTS, ts) if m.blocks), None)


def shared_files(slack: FakeSlack, ts: str) -> list[Any]:
    return [m for m in slack.state.replies_to(ALERTS, ts) if m.files]


async def test_a_trend_answer_is_followed_by_its_chart_in_the_thread(bot: Harness) -> None:
    asked = "1778000000.000100"
    assert (await ask(bot, asked)).status == 200

    [shared] = await eventually(lambda: shared_files(bot.slack, asked))
    answer = answer_in(bot.slack, asked)
    assert answer is not None
    assert answer.text  # the top-level text, for notifications and screen readers
    assert "as a table" in json.dumps(answer.blocks)  # the fallback stays in the answer
    assert float(shared.ts) > float(answer.ts)  # after the answer, in its thread
    [info] = shared.files
    upload = bot.slack.state.files[info["id"]]
    assert upload.content is not None
    assert upload.content.startswith(PNG_SIGNATURE)
    assert 10_000 < len(upload.content) < 500_000
    assert upload.channels == [ALERTS]
    assert info["mimetype"] == "image/png"
    assert upload.title == "Provisioning actions per day"
    assert upload.alt_txt is not None
    assert upload.alt_txt.startswith("Line chart: Provisioning actions per day.")
    assert "Events over TimeGenerated" in upload.alt_txt
    assert shared.text == "Provisioning actions per day, as a chart"


@pytest.mark.parametrize("refusal", ["missing_scope", "ratelimited"])
async def test_a_refused_upload_leaves_the_answer_with_its_table(
    bot: Harness, refusal: str, caplog: pytest.LogCaptureFixture
) -> None:
    if refusal == "missing_scope":
        bot.slack.state.scopes.discard("files:write")
    else:
        bot.slack.controls.throttle.throttle_next("files.getUploadURLExternal", retry_after=30)
    asked = "1778000000.000200"
    caplog.set_level(logging.WARNING, logger="bot.channels.slack.chart_upload")
    assert (await ask(bot, asked)).status == 200

    answer = await eventually(lambda: answer_in(bot.slack, asked))
    await eventually(lambda: "not shared" in caplog.text)
    assert "as a table" in json.dumps(answer.blocks)
    assert refusal in caplog.text
    assert shared_files(bot.slack, asked) == []
    assert bot.slack.state.files == {}
    refused = [c for c in bot.slack.state.calls if c.method == "files.getUploadURLExternal"]
    assert [c.error for c in refused] == [refusal]


@dataclass
class Digests:
    """The outbox's Slack notifier (as app.py wires it) and the channel behind it."""

    channel: SlackChannel
    notifier: ChannelNotifier[SlackMessage]
    store: SqlStore
    slack: FakeSlack

    async def deliver(self) -> DeliveryResult:
        store = self.store
        await store.upsert_conversation(
            conversation_ref(TEAM, ALERTS, channel_type="channel", now=NOW)
        )
        view = digest_views(NOW)["digest"]
        event = AlertEvent(
            kind=AlertEventKind.DIGEST, at=NOW, rule_id="provisioning-digest",
            detail=view.model_dump_json(),
        )  # fmt: skip
        item = new_outbox_item(
            event, conversation_id=CONVERSATION, channel=ChannelKind.SLACK, not_before=NOW
        )
        [queued] = await store.enqueue([item])
        return await self.notifier.deliver(queued)


@pytest.fixture
async def digests(store: SqlStore, fake_slack: FakeSlack) -> AsyncIterator[Digests]:
    channel = SlackChannel(
        bot_token=fake_slack.state.bot_token, signing_secret="s", api_url=fake_slack.api_url
    )
    presenter = AlertPresenter(store=store, rules=RuleBook([], loaded_at=NOW), clock=lambda: NOW)
    yield Digests(channel, channel.notifier(store=store, presenter=presenter), store, fake_slack)
    await channel.close()


NOW = datetime(2026, 5, 8, 8, tzinfo=UTC)


async def test_the_digest_gets_its_chart_in_its_thread_once(digests: Digests) -> None:
    channel, fake_slack = digests.channel, digests.slack
    result = await digests.deliver()
    assert result.outcome == "sent"
    [digest] = fake_slack.state.messages_in(ALERTS)
    assert result.message_id == digest.ts
    assert "Failures per day, as a table" in json.dumps(digest.blocks)

    await channel.charts.wait()
    [shared] = shared_files(fake_slack, digest.ts)
    upload = fake_slack.state.files[shared.files[0]["id"]]
    assert upload.content is not None
    assert upload.content.startswith(PNG_SIGNATURE)
    assert upload.title == "Failures per day"
    assert upload.alt_txt is not None
    assert "Bar chart: Failures per day" in upload.alt_txt

    # Editing the digest (as an UPDATED redelivery would) shares nothing again.
    edited = SlackMessage(text=digest.text, blocks=digest.blocks or [], chart=_chart())
    ref = await digests.store.get_conversation(CONVERSATION)
    assert ref is not None
    connector = SlackConnector(channel.client, charts=channel.charts)
    await connector.update(ref, digest.ts, edited, limit=5.0)
    await channel.charts.wait()
    assert len(shared_files(fake_slack, digest.ts)) == 1
    assert len(fake_slack.state.files) == 1


async def test_a_digest_whose_chart_cannot_be_shared_is_still_delivered(
    digests: Digests, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack = digests.slack
    fake_slack.controls.fail_next("files.completeUploadExternal", "internal_error", status=500)
    result = await digests.deliver()
    await asyncio.wait_for(digests.channel.charts.wait(), 30)
    assert result.outcome == "sent"
    [digest] = fake_slack.state.messages_in(ALERTS)
    assert shared_files(fake_slack, digest.ts) == []
    assert "not shared" in caplog.text


def _chart() -> Any:
    chart = digest_views(NOW)["digest"].chart
    assert chart is not None
    return chart


async def test_the_slash_commands_trend_gets_its_chart_in_the_channel(bot: Harness) -> None:
    url = bot.slack.response_urls.issue(ALERTS, None, READER)
    command = bot.requests.slash_command(
        command="/entra", text=QUESTION, user=READER, channel=ALERTS, response_url=url
    )
    assert (await bot.post(bot.requests.signed_form(command))).status == 200

    def top_level(via: str) -> list[Any]:
        return [m for m in bot.slack.state.messages_in(ALERTS) if m.via == via]

    [shared] = await eventually(lambda: top_level("files.completeUploadExternal"))
    [answer] = top_level("response_url")
    assert "as a table" in json.dumps(answer.blocks)
    assert shared.thread_ts is None  # the answer has no thread: the chart follows in the channel
    assert shared.files[0]["title"] == "Provisioning actions per day"
