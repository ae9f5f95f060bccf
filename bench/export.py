"""Benchmark of ``python -m bot export``: rows per second and peak memory of the command
as an operator runs it, its output to /dev/null.

The tickets are those of bench/search.py (varied text of 35 words each). Each format runs
twice over all of them, twice over a single case (its number as the words: the command's
start, taken from the rate) and once over a third of them (`high`): the same peak memory
for a third and for all is what streaming promises.

Usage: python -m bench.export [--db sqlite|postgresql|both] [--tickets 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.foundation import database_urls, reuse_or_seed, seeded_note
from bench.search import SEED_KEY, seed

ROOT = Path(__file__).resolve().parent.parent


def high_water_kib(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)


def run_export(url: str, fmt: str, words: list[str]) -> tuple[float, int, int, float]:
    """Seconds taken, lines written, peak RSS and CPU seconds (KiB: the high-water mark since exec, read
    as the output arrives; the fork's ru_maxrss would count this process's memory) of one export."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "export", "--format", fmt, *words], env=env, cwd=ROOT, stdout=subprocess.PIPE
    )
    out = proc.stdout
    assert out is not None
    lines = peak = 0
    for chunk in iter(lambda: out.read(1 << 16), b""):
        lines += chunk.count(b"\n")
        peak = max(peak, high_water_kib(proc.pid))
    _pid, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"export failed with {status}")
    return took, lines, peak, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    print(f"{args.tickets:,} tickets; seconds: the whole command; rows/s: after its start (the 1-case run's time)\n")
    print(f"load average before: {Path('/proc/loadavg').read_text().split()[0]}\n")
    print("| database | format | rows | seconds | 1 case | rows/s | rows per CPU second | peak RSS | peak RSS for `high` |\n|---|---|---|---|---|---|---|---|---|")
    for db, url in database_urls(args.db):
        print(f"<!-- {db}: {seeded_note(reuse_or_seed(url, args.tickets, seed, SEED_KEY), args.tickets)} -->", flush=True)
        for fmt in ("csv", "jsonl"):
            one = min(run_export(url, fmt, [f"TCK-{args.tickets // 2:06d}"]) for _ in range(2))
            start, start_cpu = one[0], one[3]
            _, third, partial, _ = run_export(url, fmt, ["high"])
            runs = [run_export(url, fmt, []) for _ in range(2)]
            seconds, lines, peak, cpu = min(runs)
            rows = lines - 1 if fmt == "csv" else lines  # the header; details may hold newlines: none do here
            rate = rows / (seconds - start)
            per_cpu = rows / (cpu - start_cpu)
            print(f"| {db} | {fmt} | {rows:,} | {seconds:.2f} | {start:.2f} | {rate:,.0f} | {per_cpu:,.0f} | {peak / 1024:.0f} MiB | {partial / 1024:.0f} MiB ({third:,} lines) |", flush=True)
        print(f"<!-- load average after: {Path('/proc/loadavg').read_text().split()[0]} -->", flush=True)


if __name__ == "__main__":
    main()
