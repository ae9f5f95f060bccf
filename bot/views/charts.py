"""The weekly chart: tickets opened and resolved per day over the last four weeks, and
the open backlog by priority, as a PNG with its alt text and a short text table for
where an image cannot be seen.

Built from plain data (dates and counts), so the queries that gather them stay elsewhere.
matplotlib is imported only when a chart is drawn, never when the bot starts, and only its
object API is used (no pyplot): no global figure state, no display, the Agg canvas alone.
"""

from __future__ import annotations

import gc
import io
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

DAYS = 28
# Slack reads at most 1,000 characters of an image's alt text.
ALT_TEXT_MAX = 1000
COLOURS = {"opened": "#1264a3", "resolved": "#2eb67d"}
PRIORITY_COLOURS = {"High": "#e01e5a", "Medium": "#ecb22e", "Low": "#8d8d8d"}
SIZE_INCHES = (10.0, 4.0)
DPI = 100


@dataclass(frozen=True)
class WeeklyChartData:
    """``days`` (oldest first) with the tickets ``opened`` and ``resolved`` on each, and the
    open ``backlog`` per priority label (in the order to show)."""

    days: Sequence[date]
    opened: Sequence[int]
    resolved: Sequence[int]
    backlog: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.days or not len(self.days) == len(self.opened) == len(self.resolved):
            raise ValueError("days, opened and resolved must be of one length, at least one day")

    @classmethod
    def from_dates(
        cls,
        opened: Iterable[date],
        resolved: Iterable[date],
        backlog: Mapping[str, int],
        *,
        last_day: date,
        days: int = DAYS,
    ) -> WeeklyChartData:
        """Counted per day from the dates tickets were opened and resolved, over the ``days``
        days that end with ``last_day`` (dates outside them are left out)."""
        return cls.from_counts(Counter(opened), Counter(resolved), backlog, last_day=last_day, days=days)

    @classmethod
    def from_counts(
        cls,
        opened: Mapping[date, int],
        resolved: Mapping[date, int],
        backlog: Mapping[str, int],
        *,
        last_day: date,
        days: int = DAYS,
    ) -> WeeklyChartData:
        """From the tickets opened and resolved on each day (a day missing: none), over the
        ``days`` days that end with ``last_day``."""
        span = [last_day - timedelta(days=days - 1 - i) for i in range(days)]
        return cls(span, [opened.get(d, 0) for d in span], [resolved.get(d, 0) for d in span], dict(backlog))

    @property
    def total_opened(self) -> int:
        return sum(self.opened)

    @property
    def total_resolved(self) -> int:
        return sum(self.resolved)

    @property
    def total_backlog(self) -> int:
        return sum(self.backlog.values())


@dataclass(frozen=True)
class Chart:
    png: bytes
    alt_text: str
    fallback: str  # a short text table saying what the image shows
    filename: str
    title: str


def render_weekly_chart(data: WeeklyChartData, *, title: str = "Tickets over the last 4 weeks") -> Chart:
    first, last = data.days[0], data.days[-1]
    return Chart(
        png=render_png(data, title),
        alt_text=alt_text(data),
        fallback=text_fallback(data),
        filename=f"tickets-{first.isoformat()}-to-{last.isoformat()}.png",
        title=f"{title}: {_day(first)} to {_day(last)}",
    )


def render_png(data: WeeklyChartData, title: str) -> bytes:
    # A figure, its canvas, renderer and axes refer to one another, so a chart's pixel
    # buffers would otherwise wait for the collector's next full pass: each chart left
    # about 1 MiB behind until some 40 had been drawn (about 30 MiB in all). A full pass
    # over the bot's process took 35 to 220 ms (it holds far more objects than a chart);
    # with the collector paused while drawing, the chart's objects all stay in the youngest
    # generation and a pass over that one alone frees them, in a few milliseconds.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        png = _draw(data, title)
    finally:
        if was_enabled:
            gc.enable()
    gc.collect(0)
    return png


def _draw(data: WeeklyChartData, title: str) -> bytes:
    # Imported here: matplotlib costs a few hundred milliseconds to import, paid by the
    # first chart, not by every start of the bot.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE_INCHES, dpi=DPI)
    FigureCanvasAgg(figure)
    # Fixed margins rather than a layout engine, which draws the figure twice to measure it.
    flow, backlog = figure.subplots(
        1, 2, width_ratios=(3, 1), gridspec_kw={"left": 0.05, "right": 0.97, "bottom": 0.1, "top": 0.84, "wspace": 0.24}
    )
    figure.suptitle(title, fontsize=12, fontweight="bold")

    x = list(range(len(data.days)))
    flow.plot(x, list(data.opened), color=COLOURS["opened"], marker="o", markersize=3, linewidth=1.6, label="Opened")
    flow.plot(x, list(data.resolved), color=COLOURS["resolved"], marker="o", markersize=3, linewidth=1.6, label="Resolved")
    ticks = [i for i, day in enumerate(data.days) if day.weekday() == 0] or [0]
    flow.set_xticks(ticks, [_day(data.days[i]) for i in ticks], fontsize=8)
    flow.set_xlim(-0.5, len(x) - 0.5)
    flow.set_ylim(bottom=0, top=max(1, *data.opened, *data.resolved) * 1.15)
    flow.yaxis.get_major_locator().set_params(integer=True)
    # A title at a set height: placed automatically, it measures the axes' tick labels first.
    flow.set_title(f"Opened {data.total_opened} · resolved {data.total_resolved}", fontsize=10, y=1.02)
    flow.grid(axis="y", alpha=0.3)
    flow.legend(loc="upper left", fontsize=8, frameon=False)
    for side in ("top", "right"):
        flow.spines[side].set_visible(False)

    labels = list(data.backlog) or ["(none)"]
    counts = [data.backlog[label] for label in data.backlog] or [0]
    colours = [PRIORITY_COLOURS.get(label, "#4a154b") for label in labels]
    bars = backlog.barh(labels, counts, color=colours)
    backlog.invert_yaxis()  # the first priority on top
    backlog.bar_label(bars, padding=3, fontsize=9)
    backlog.set_xlim(0, max(1, *counts) * 1.25)
    backlog.set_title(f"Open now: {data.total_backlog}", fontsize=10, y=1.02)
    backlog.xaxis.set_visible(False)
    for side in ("top", "right", "bottom"):
        backlog.spines[side].set_visible(False)

    out = io.BytesIO()
    # No metadata: the same data gives the same bytes.
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def alt_text(data: WeeklyChartData) -> str:
    first, last = data.days[0], data.days[-1]
    busiest = max(range(len(data.days)), key=lambda i: (data.opened[i], -i))
    parts = [
        f"Line chart of tickets opened and resolved per day from {_day(first)} to {_day(last)}:",
        f"{data.total_opened} opened and {data.total_resolved} resolved",
    ]
    if data.opened[busiest]:
        parts[-1] += f"; most opened on {_day(data.days[busiest])} ({data.opened[busiest]})"
    weeks = "; ".join(f"week of {_day(start)}: {o} opened, {r} resolved" for start, o, r in _weeks(data))
    parts[-1] += f". By week, {weeks}."
    parts.append(f"Bar chart of the open backlog by priority: {_backlog(data)}.")
    text = " ".join(parts)
    return text if len(text) <= ALT_TEXT_MAX else text[: ALT_TEXT_MAX - 1] + "…"


def text_fallback(data: WeeklyChartData) -> str:
    """A few lines a person reads where the image is not shown (a mail, a screen reader)."""
    rows = [("Week of", "Opened", "Resolved")]
    rows += [(_day(start), str(o), str(r)) for start, o, r in _weeks(data)]
    rows.append(("Total", str(data.total_opened), str(data.total_resolved)))
    width = max(len(row[0]) for row in rows)
    lines = [f"{a:<{width}}  {b:>6}  {c:>8}" for a, b, c in rows]
    lines.append(f"Open backlog: {_backlog(data)}")
    return "\n".join(lines)


def _weeks(data: WeeklyChartData) -> list[tuple[date, int, int]]:
    """(first day, opened, resolved) per run of 7 days, the last run ending on the last day."""
    n = len(data.days)
    starts = list(range(n % 7, n, 7))
    if n % 7:
        starts.insert(0, 0)
    ends = starts[1:] + [n]
    return [(data.days[s], sum(data.opened[s:e]), sum(data.resolved[s:e])) for s, e in zip(starts, ends, strict=True)]


def _backlog(data: WeeklyChartData) -> str:
    if not data.backlog:
        return "none open"
    return ", ".join(f"{label} {count}" for label, count in data.backlog.items()) + f" ({data.total_backlog} in all)"


def _day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"
