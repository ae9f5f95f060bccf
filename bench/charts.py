"""Benchmark of the weekly chart (bot/views/charts.py): rendering its PNG, alt text and
text table from four weeks of counts and a backlog by priority.

Reported from a fresh interpreter, so nothing is warm that a bot would not have warm:
- importing matplotlib, as the first chart of a bot's life pays it, and the first chart
  after it; the process's resident memory (RSS) growth with each;
- later charts: median and 95th percentile of ``--runs`` renders after that first one;
- the Python heap's peak during one later render (tracemalloc) and the RSS growth over
  all the renders (nothing kept from one chart to the next).
Also checked: importing the bot's app module does not import matplotlib.

Usage: python -m bench.charts [--runs 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta

from bot.views.charts import WeeklyChartData, render_weekly_chart

MIB = 1024 * 1024


def rss() -> int:
    """Resident memory of this process, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def sample_data() -> WeeklyChartData:
    rnd = random.Random(16)
    last = date(2026, 11, 29)
    days = [last - timedelta(days=i) for i in range(28)]
    opened = [rnd.choice(days) for _ in range(400)]
    resolved = [rnd.choice(days) for _ in range(370)]
    return WeeklyChartData.from_dates(opened, resolved, {"High": 6, "Medium": 23, "Low": 11}, last_day=last)


def child(runs: int) -> dict[str, float]:
    """Runs in a fresh interpreter: the figures as a dict."""
    data = sample_data()
    before = rss()
    began = time.perf_counter()
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401 - what render_weekly_chart imports, timed apart

    imported = time.perf_counter() - began
    after_import = rss()
    began = time.perf_counter()
    chart = render_weekly_chart(data)
    first = time.perf_counter() - began
    after_first = rss()

    times = []
    for _ in range(runs):
        began = time.perf_counter()
        render_weekly_chart(data)
        times.append(time.perf_counter() - began)
    after_all = rss()

    tracemalloc.start()
    render_weekly_chart(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    times.sort()
    return {
        "import_ms": imported * 1000,
        "rss_import_mib": (after_import - before) / MIB,
        "first_ms": first * 1000,
        "median_ms": times[len(times) // 2] * 1000,
        "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000,
        "rss_before_mib": before / MIB,
        "rss_first_mib": (after_first - after_import) / MIB,
        "rss_runs_mib": (after_all - after_first) / MIB,
        "heap_peak_mib": peak / MIB,
        "png_kib": len(chart.png) / 1024,
        "alt_chars": len(chart.alt_text),
    }


def app_imports_matplotlib() -> bool:
    probe = "import sys, bot.app, bot.views.charts; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip() == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.runs)))
        return
    out = subprocess.run(
        [sys.executable, "-m", "bench.charts", "--child", "--runs", str(args.runs)], capture_output=True, text=True, check=True
    )
    f = json.loads(out.stdout.strip().splitlines()[-1])
    print("| what | figure |")
    print("|---|---|")
    print(f"| importing matplotlib (once per process, at the first chart) | {f['import_ms']:.0f} ms |")
    print(f"| RSS growth with that import (matplotlib, numpy, Pillow, fonts) | {f['rss_import_mib']:.1f} MiB |")
    print(f"| first chart of a process, after the import | {f['first_ms']:.0f} ms |")
    print(f"| later charts, median of {args.runs} | {f['median_ms']:.0f} ms |")
    print(f"| later charts, 95th percentile | {f['p95_ms']:.0f} ms |")
    print(f"| RSS growth with the first chart | {f['rss_first_mib']:.1f} MiB |")
    print(f"| RSS growth over the {args.runs} later charts | {f['rss_runs_mib']:.1f} MiB |")
    print(f"| Python heap peak during a later chart (tracemalloc) | {f['heap_peak_mib']:.1f} MiB |")
    print(f"| PNG (1000 x 400) / alt text | {f['png_kib']:.0f} KiB / {f['alt_chars']:.0f} characters |")
    print(f"| matplotlib imported with bot.app | {'yes' if app_imports_matplotlib() else 'no'} |")


if __name__ == "__main__":
    main()
