"""A view's chart drawn as a PNG (bot.channels.slack.charts) and said in words for its alt
text (chart_upload.describe): the image is a real PNG of the documented size, bounded
however much the view holds, and matplotlib is imported only when a chart is drawn."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from bot.channels.slack.chart_upload import MAX_ALT_TEXT, describe, file_name
from bot.channels.slack.charts import DPI, SIZE_INCHES, draw_png, tick_label, x_labels
from bot.views.model import Table
from bot.views.query import build_chart
from bot.views.query_views import BarPoint, Chart, LinePoint, LineSeries
from bot.workspace.base import Column, QueryResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = int(SIZE_INCHES[0] * DPI), int(SIZE_INCHES[1] * DPI)
START = datetime(2026, 5, 1, tzinfo=UTC)


def actions_per_day(days: int = 7) -> Chart:
    rows = [
        [START + timedelta(days=day), action, base + day]
        for day in range(days)
        for action, base in (("Create", 40), ("Update", 120), ("Delete", 5))
    ]
    result = QueryResult(
        columns=[
            Column("TimeGenerated", "datetime"),
            Column("Action", "string"),
            Column("Events", "long"),
        ],
        rows=rows,
        elapsed_ms=3,
    )
    chart = build_chart(result, "line", title="Provisioning actions per day")
    assert chart is not None
    return chart


def errors_by_code() -> Chart:
    codes = [("SchemaAttributeNotFound", 25), ("EntryConflict", 12), ("Unauthorized", 3)]
    return Chart(
        kind="bar", bar=True, line=False, title="Errors by code", x_title="ErrorCode",
        y_title="Failures", bars=tuple(BarPoint(x=x, y=y) for x, y in codes),
        table=Table(columns=("ErrorCode", "Failures"), rows=()),
    )  # fmt: skip


def ihdr_size(png: bytes) -> tuple[int, int]:
    """Width and height from the PNG's IHDR chunk (PNG spec, 11.2.2)."""
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("chart", [actions_per_day(), errors_by_code()], ids=["line", "bar"])
def test_a_chart_is_a_png_of_the_documented_size(chart: Chart) -> None:
    png = draw_png(chart)
    assert ihdr_size(png) == (WIDTH, HEIGHT) == (960, 540)
    assert 5_000 < len(png) < 500_000
    image = Image.open(io.BytesIO(png))
    assert (image.format, image.size) == ("PNG", (960, 540))
    # Not a blank canvas: the lines/bars are drawn in colour on the white background.
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert any(r != g or g != b for _, (r, g, b) in colours)


def test_a_huge_chart_is_drawn_bounded() -> None:
    series = tuple(
        LineSeries(
            legend=f"app-{n}",
            values=tuple(
                LinePoint(x=f"{(START + timedelta(hours=h)):%m-%d %H:%M}", y=float(h % 17))
                for h in range(2_000)
            ),
        )
        for n in range(30)
    )
    chart = actions_per_day().model_copy(update={"series": series})
    assert ihdr_size(draw_png(chart)) == (WIDTH, HEIGHT)
    bars = tuple(BarPoint(x=f"code-{n}", y=float(n)) for n in range(500))
    assert ihdr_size(draw_png(errors_by_code().model_copy(update={"bars": bars}))) == (
        WIDTH,
        HEIGHT,
    )


def test_time_labels_read_as_dates_in_time_order() -> None:
    assert x_labels(["12-31 00:00", "01-01 00:00", "12-30 00:00"]) == [
        "12-30 00:00",
        "12-31 00:00",
        "01-01 00:00",
    ]
    assert x_labels(["b", "a", "b"]) == ["b", "a"]
    daily = ["05-04 00:00", "05-05 00:00"]
    assert tick_label("05-04 00:00", daily) == "4 May"
    assert tick_label("05-04 09:00", [*daily, "05-04 09:00"]) == "4 May\n09:00"
    assert tick_label("Mon 04", daily) == "Mon 04"


def test_the_alt_text_says_the_chart_in_words() -> None:
    line = describe(actions_per_day())
    assert line.startswith("Line chart: Provisioning actions per day.")
    assert "from 05-01 00:00 to 05-07 00:00, 3 series" in line
    assert "Update: 7 points, from 120 to 126, highest 126 at 05-07 00:00" in line
    bars = describe(errors_by_code())
    assert "3 bars; highest SchemaAttributeNotFound with 25" in bars
    many = errors_by_code().model_copy(
        update={"bars": tuple(BarPoint(x="x" * 200, y=n) for n in range(50))}
    )
    assert "and 40 more" in describe(many)
    assert file_name(actions_per_day()) == "provisioning-actions-per-day.png"
    assert len(describe(many)) > MAX_ALT_TEXT  # cut to the limit when uploaded


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    code = (
        "import sys, bot.__main__, bot.app, bot.channels.slack, bot.channels.slack.charts; "
        "print('matplotlib' in sys.modules)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "False"
