"""A view's chart (bot.views.query_views.Chart) drawn as a PNG, for Slack's file upload.

matplotlib with its Agg canvas: off-screen, no display, no global pyplot state (one
`Figure` per drawing). It is imported when a chart is drawn, never at start-up, so the
CLI (`alertbot query`) does not pay for it. Drawing is CPU work: callers run `draw_png`
in a worker thread (bot.channels.slack.chart_upload), one at a time.

Bounded whatever the view holds: at most MAX_SERIES lines of MAX_POINTS points, or
MAX_BARS bars. Line charts' x values are the view's time labels (`05-04 09:00`), shown
as dates (`4 May`, and the hour when the points are hourly), at most MAX_TICKS of them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Final

from bot.views.query_views import Chart

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_SERIES: Final = 6
MAX_POINTS: Final = 200
MAX_BARS: Final = 40
MAX_TICKS: Final = 8
#: 960 x 540 pixels: legible in Slack's preview (about 360 px high) and full size.
SIZE_INCHES: Final = (8.0, 4.5)
DPI: Final = 120
#: Bars with labels longer than this, or more bars than BARS_UPRIGHT, lie on their side.
LABEL_UPRIGHT: Final = 10
BARS_UPRIGHT: Final = 12
_TIME_LABEL: Final = re.compile(r"^(\d\d)-(\d\d) (\d\d):(\d\d)$")
#: Colour-blind-safe (Okabe-Ito).
_COLOURS: Final = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")


def draw_png(chart: Chart) -> bytes:
    """The chart as PNG bytes (SIZE_INCHES at DPI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if chart.kind == "bar":
        _bars(axes, chart)
    else:
        _lines(axes, chart)
    axes.set_title(chart.title, fontsize=14, fontweight="bold", loc="left")
    axes.grid(axis="y" if _upright(chart) or chart.kind == "line" else "x", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _upright(chart: Chart) -> bool:
    bars = chart.bars[:MAX_BARS]
    longest = max((len(bar.x) for bar in bars), default=0)
    return len(bars) <= BARS_UPRIGHT and longest <= LABEL_UPRIGHT


def _bars(axes: Axes, chart: Chart) -> None:
    bars = chart.bars[:MAX_BARS]
    labels = [bar.x for bar in bars]
    values = [bar.y for bar in bars]
    if _upright(chart):
        drawn = axes.bar(labels, values, color=_COLOURS[0])
        axes.set_xlabel(chart.x_title, fontsize=11)
        axes.set_ylabel(chart.y_title, fontsize=11)
    else:  # long labels or many bars: on their side, the first at the top
        labels, values = labels[::-1], values[::-1]
        drawn = axes.barh(labels, values, color=_COLOURS[0])
        axes.set_ylabel(chart.x_title, fontsize=11)
        axes.set_xlabel(chart.y_title, fontsize=11)
    axes.bar_label(drawn, labels=[_number(value) for value in values], fontsize=9, padding=2)
    axes.tick_params(labelsize=10)


def _lines(axes: Axes, chart: Chart) -> None:
    series = chart.series[:MAX_SERIES]
    labels = x_labels([point.x for line in series for point in line.values[-MAX_POINTS:]])
    position = {label: index for index, label in enumerate(labels)}
    for index, line in enumerate(series):
        points = line.values[-MAX_POINTS:]
        axes.plot(
            [position[p.x] for p in points],
            [p.y for p in points],
            label=line.legend,
            color=_COLOURS[index % len(_COLOURS)],
            linewidth=2,
            marker="o" if len(points) <= 31 else None,
            markersize=4,
        )
    step = max(1, -(-len(labels) // MAX_TICKS))
    ticks = list(range(0, len(labels), step))
    axes.set_xticks(ticks, [tick_label(labels[i], labels) for i in ticks], fontsize=10)
    axes.set_xlabel(chart.x_title, fontsize=11)
    axes.set_ylabel(chart.y_title, fontsize=11)
    axes.set_ylim(bottom=0)
    if len(series) > 1 or not chart.y_title:
        axes.legend(fontsize=9, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def x_labels(labels: Sequence[str]) -> list[str]:
    """The distinct x labels in time order. Time labels carry no year: across a new year,
    January sorts after December."""
    distinct = list(dict.fromkeys(labels))
    if not distinct or not all(_TIME_LABEL.match(label) for label in distinct):
        return distinct
    months = {label[:2] for label in distinct}
    wraps = "12" in months and "01" in months
    return sorted(distinct, key=lambda label: (wraps and label[:2] <= "06", label))


def tick_label(label: str, labels: Sequence[str]) -> str:
    """`05-04 09:00` as `4 May 09:00`, or `4 May` when every label is at midnight."""
    found = _TIME_LABEL.match(label)
    if found is None:
        return label
    month, day, hour, minute = (int(part) for part in found.groups())
    when = datetime(2000, month, day, hour, minute)  # a leap year: 02-29 is a day
    daily = all(other.endswith(" 00:00") for other in labels)
    return f"{when.day} {when:%b}" if daily else f"{when.day} {when:%b}\n{when:%H:%M}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
