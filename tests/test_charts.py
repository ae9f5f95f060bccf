"""The weekly chart: a PNG drawn from plain counts, its alt text and its text table;
matplotlib loaded only when a chart is drawn."""

from __future__ import annotations

import io
import subprocess
import sys
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.views.charts import ALT_TEXT_MAX, WeeklyChartData, alt_text, render_weekly_chart, text_fallback

LAST = date(2026, 11, 29)  # a Sunday
DAYS = [LAST - timedelta(days=27 - i) for i in range(28)]


def sample() -> WeeklyChartData:
    opened = [d for i, d in enumerate(DAYS) for _ in range(i % 5 + 1)]  # 1-5 a day
    resolved = [d for i, d in enumerate(DAYS) if d.weekday() < 5 for _ in range(3)]  # 3 each weekday
    return WeeklyChartData.from_dates(opened, resolved, {"High": 4, "Medium": 17, "Low": 9}, last_day=LAST)


def test_counts_per_day_from_dates() -> None:
    data = WeeklyChartData.from_dates(
        [LAST, LAST, LAST - timedelta(days=27), LAST - timedelta(days=28), LAST + timedelta(days=1)],
        [LAST - timedelta(days=1)],
        {},
        last_day=LAST,
    )
    assert list(data.days) == DAYS
    assert data.opened[0] == 1 and data.opened[-1] == 2 and data.total_opened == 3  # outside the 4 weeks: left out
    assert data.resolved[-2] == 1 and data.total_resolved == 1
    with pytest.raises(ValueError):
        WeeklyChartData([LAST], [1, 2], [1])


def test_the_png() -> None:
    chart = render_weekly_chart(sample())
    image = Image.open(io.BytesIO(chart.png))
    assert image.format == "PNG" and image.size == (1000, 400)
    colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=1 << 20) or []}
    assert (0xE0, 0x1E, 0x5A) in colours  # the High bar
    assert chart.filename == "tickets-2026-11-02-to-2026-11-29.png"
    assert chart.title == "Tickets over the last 4 weeks: Mon 2 Nov to Sun 29 Nov"
    assert render_weekly_chart(sample()).png == chart.png  # the same data, the same bytes
    assert "matplotlib.pyplot" not in sys.modules  # the object API only: no global figures


def test_empty_weeks_and_no_backlog_still_draw() -> None:
    data = WeeklyChartData.from_dates([], [], {}, last_day=LAST)
    chart = render_weekly_chart(data)
    assert Image.open(io.BytesIO(chart.png)).size == (1000, 400)
    assert chart.alt_text.endswith("Bar chart of the open backlog by priority: none open.")
    assert "0 opened and 0 resolved." in chart.alt_text


def test_alt_text_says_what_the_chart_shows() -> None:
    text = alt_text(sample())
    assert text == (
        "Line chart of tickets opened and resolved per day from Mon 2 Nov to Sun 29 Nov: 81 opened and 60 resolved; "
        "most opened on Fri 6 Nov (5). By week, week of Mon 2 Nov: 18 opened, 15 resolved; week of Mon 9 Nov: "
        "22 opened, 15 resolved; week of Mon 16 Nov: 21 opened, 15 resolved; week of Mon 23 Nov: 20 opened, "
        "15 resolved. Bar chart of the open backlog by priority: High 4, Medium 17, Low 9 (30 in all)."
    )
    many = WeeklyChartData(DAYS, [1] * 28, [1] * 28, {f"Team {i} queue with a long name": i for i in range(60)})
    long_text = alt_text(many)
    assert len(long_text) == ALT_TEXT_MAX and long_text.endswith("…")


def test_text_fallback_is_a_short_table() -> None:
    assert text_fallback(sample()) == (
        "Week of     Opened  Resolved\n"
        "Mon 2 Nov       18        15\n"
        "Mon 9 Nov       22        15\n"
        "Mon 16 Nov      21        15\n"
        "Mon 23 Nov      20        15\n"
        "Total           81        60\n"
        "Open backlog: High 4, Medium 17, Low 9 (30 in all)"
    )
    # a span that is not whole weeks: the first row is the short one
    ten = WeeklyChartData(DAYS[-10:], [1] * 10, [0] * 10, {"Low": 1})
    assert text_fallback(ten).splitlines()[1:3] == ["Fri 20 Nov       3         0", "Mon 23 Nov       7         0"]


def test_the_bot_starts_without_matplotlib() -> None:
    probe = "import sys, bot.app, bot.views.charts; print('matplotlib' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]
