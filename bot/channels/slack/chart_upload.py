"""A message's chart shared as an image beside it, through Slack's files API.

`files_upload_v2` (slack_sdk): files.getUploadURLExternal (file name, size, alt text),
the bytes posted to the upload URL, then files.completeUploadExternal sharing the file in
the channel, in the message's thread when it has one
(docs.slack.dev/reference/methods/files.getUploadURLExternal, files.completeUploadExternal).
Needs the `files:write` scope.

The message already carries the same numbers as a table, so an image that cannot be
drawn or shared (no `files:write`, rate limited, Slack down, a timeout) is logged and
left out: never an error for the person who asked, never a retry of the message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.channels.pacing import Pacer
from bot.channels.slack.charts import draw_png, x_labels
from bot.channels.slack.text import clip, escape
from bot.views.query_views import Chart

log = logging.getLogger(__name__)

#: Seconds for drawing and all three upload steps together.
UPLOAD_TIMEOUT: Final = 30.0
#: files.getUploadURLExternal refuses longer alt text (`alt_txt_too_large`).
MAX_ALT_TEXT: Final = 1000
MAX_COMMENT: Final = 300
_NAMED: Final = 5


class ChartUploader:
    """Draws a chart (in a worker thread, one at a time) and shares it in a channel."""

    def __init__(
        self, client: AsyncWebClient, *, pacer: Pacer, timeout: float = UPLOAD_TIMEOUT
    ) -> None:
        self._client = client
        self._pacer = pacer
        self._timeout = timeout
        self._drawing = asyncio.Semaphore(1)
        self._pending: set[asyncio.Task[bool]] = set()

    async def share(
        self, chart: Chart, *, channel: str, thread_ts: str | None, conversation_id: str
    ) -> bool:
        """Whether the image was shared; a failure is logged, not raised."""
        where = f"{channel} (thread {thread_ts})" if thread_ts else channel
        try:
            async with asyncio.timeout(self._timeout):
                await self._share(chart, channel, thread_ts, conversation_id)
        except SlackApiError as error:
            log.warning(
                "slack: chart %r not shared in %s: %s (the table stands)",
                chart.title,
                where,
                error.response.get("error"),
            )
            return False
        except (SlackRequestError, aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning(
                "slack: chart %r not shared in %s: %s (the table stands)",
                chart.title,
                where,
                type(error).__name__,
            )
            return False
        except Exception:  # drawing it: our bug, but the answer stands without the image
            log.exception("slack: chart %r could not be drawn for %s", chart.title, where)
            return False
        log.info("slack: chart %r shared in %s", chart.title, where)
        return True

    def share_later(
        self, chart: Chart, *, channel: str, thread_ts: str | None, conversation_id: str
    ) -> None:
        """`share` in the background: the caller (an outbox delivery) records its post now."""
        task = asyncio.create_task(
            self.share(chart, channel=channel, thread_ts=thread_ts, conversation_id=conversation_id)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def wait(self) -> None:
        """Until the background shares are done (tests; and a clean stop)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self.wait()

    async def _share(
        self, chart: Chart, channel: str, thread_ts: str | None, conversation_id: str
    ) -> None:
        async with self._drawing:
            png = await asyncio.to_thread(draw_png, chart)
        wait = await self._pacer.acquire(conversation_id, max_wait=self._timeout / 2)
        if wait > 0:
            raise TimeoutError(f"paced for {wait:.0f} s")
        await self._client.files_upload_v2(
            content=png,
            filename=file_name(chart),
            title=chart.title,
            alt_txt=clip(describe(chart), MAX_ALT_TEXT),
            initial_comment=clip(escape(f"{chart.title}, as a chart"), MAX_COMMENT),
            channel=channel,
            thread_ts=thread_ts,
        )


def file_name(chart: Chart) -> str:
    words = "".join(c if c.isalnum() else "-" for c in chart.title.lower()).strip("-")
    return f"{'-'.join(filter(None, words.split('-')))[:60] or 'chart'}.png"


def describe(chart: Chart) -> str:
    """The chart in words, for screen readers (alt text) and anyone without the image."""
    if chart.kind == "bar":
        return _describe_bars(chart)
    return _describe_lines(chart)


def _describe_bars(chart: Chart) -> str:
    bars = chart.bars
    if not bars:
        return f"Bar chart: {chart.title}, no values."
    measure = chart.y_title or "value"
    listed = "; ".join(f"{bar.x}: {_number(bar.y)}" for bar in bars[: _NAMED * 2])
    more = f"; and {len(bars) - _NAMED * 2} more" if len(bars) > _NAMED * 2 else ""
    top = max(bars, key=lambda bar: bar.y)
    return (
        f"Bar chart: {chart.title}. {measure} by {chart.x_title or 'category'}, "
        f"{len(bars)} bars; highest {top.x} with {_number(top.y)}. {listed}{more}."
    )


def _describe_lines(chart: Chart) -> str:
    series = [line for line in chart.series if line.values]
    if not series:
        return f"Line chart: {chart.title}, no values."
    times = x_labels([point.x for line in series for point in line.values])
    first, last = times[0], times[-1]
    parts = []
    for line in series[:_NAMED]:
        peak = max(line.values, key=lambda point: point.y)
        parts.append(
            f"{line.legend}: {len(line.values)} points, from {_number(line.values[0].y)} "
            f"to {_number(line.values[-1].y)}, highest {_number(peak.y)} at {peak.x}"
        )
    more = f"; and {len(series) - _NAMED} more series" if len(series) > _NAMED else ""
    return (
        f"Line chart: {chart.title}. {chart.y_title or 'values'} over {chart.x_title or 'time'}"
        f" from {first} to {last}, {len(series)} series. {'; '.join(parts)}{more}."
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
