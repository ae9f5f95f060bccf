"""Benchmark of the offline sandbox: how soon it is up, and how soon a click shows.

1. Start: from the command (``python -m bot sandbox``, a new data folder each time) to the
   printed address (page served, bot connected), and to "demo data in": every demo card,
   the escalation alert and the mail's case visible through the page's API.
2. A click reflected: an agent clicks Assign to Me on a card through the page's API; the
   time until the state the page reads shows the card In Progress, woken by the live
   stream as the page is (never polled). Also a message typed in a thread until it shows.
3. In the page itself (headless Chromium, when installed): a click on Assign to Me until
   the card on screen reads In Progress — the request, the bot, the live stream, the
   page's fetch and its drawing, all of it.
4. Reset: from the Reset request until the demo cards are all back.

Usage: python -m bench.sandbox [--starts 5] [--clicks 30]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.foundation import pct
from mail_double import free_port
from sandbox import cast
from sandbox.client import SandboxProcess, launch, sandbox_command

SUPPORT = cast.SUPPORT.id
DEMO = ("Open", "In Progress", "Resolved", "Closed", "Email")


def cards(state: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in state["messages"][SUPPORT] if m["blocks"] and "TCK-" in m["text"]]


def demo_in(state: dict[str, Any]) -> bool:
    shown = cards(state)
    alerted = any("escalated" in m["text"] for m in state["messages"][cast.ALERTS.id])
    return alerted and all(any(word in m["text"] for m in shown) for word in DEMO)


def starts(count: int) -> list[str]:
    printed, ready = [], []
    for _ in range(count):
        with tempfile.TemporaryDirectory() as folder:
            began = time.perf_counter()
            box = launch(sandbox_command(free_port(), Path(folder)))
            printed.append(time.perf_counter() - began)
            try:
                box.wait(cast.AGENT.id, lambda s: demo_in(s) or None, "the demo data", timeout=30)
                ready.append(time.perf_counter() - began)
            finally:
                box.stop()
    return [
        f"start → address printed (page served, bot connected): median {statistics.median(printed):.2f} s, max {max(printed):.2f} s",
        f"start → demo data in (cards, alert, the mail's case):  median {statistics.median(ready):.2f} s, max {max(ready):.2f} s",
    ]


def file_tickets(box: SandboxProcess, count: int, tag: str = "bench ticket") -> list[dict[str, Any]]:
    for n in range(count):
        box.file_ticket(cast.REPORTER.id, SUPPORT, f"{tag} {n}.")

    def all_filed(state: dict[str, Any]) -> list[dict[str, Any]] | None:
        filed = [m for m in cards(state) if f"{tag} " in str(m["blocks"])]
        return filed if len(filed) >= count else None

    return box.wait(cast.AGENT.id, all_filed, "the bench cards", timeout=60)


def assign_button(card: dict[str, Any]) -> dict[str, str]:
    for block in card["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == "Assign to Me":
                return {"block_id": block["block_id"], "action_id": element["action_id"]}
    raise AssertionError("no Assign to Me")


def in_progress(state: dict[str, Any], ts: str) -> dict[str, Any] | None:
    return next((m for m in cards(state) if m["ts"] == ts and "In Progress" in m["text"]), None)


def shown_in(state: dict[str, Any], parent: str, text: str) -> bool:
    return any(m["text"] == text for m in state["threads"].get(f"{SUPPORT}:{parent}", []))


def clicks(box: SandboxProcess, count: int) -> list[str]:
    agent = cast.AGENT.id
    took = []
    for card in file_tickets(box, count):
        began = time.perf_counter()
        box.ok("/api/action", {"as": agent, "container": {"type": "message", "channel": SUPPORT, "ts": card["ts"]}, **assign_button(card)})
        box.wait(agent, lambda s: in_progress(s, card["ts"]), "the card to change")
        took.append(time.perf_counter() - began)
    typed = []
    parent = box.state(agent)["messages"][SUPPORT][0]["ts"]
    for n in range(count):
        began = time.perf_counter()
        box.ok("/api/say", {"as": agent, "channel": SUPPORT, "text": f"note {n}", "thread_ts": parent})
        box.wait(agent, lambda s: shown_in(s, parent, f"note {n}"), "the reply")
        typed.append(time.perf_counter() - began)
    return [
        f"click Assign to Me → card shows In Progress: p50 {pct(took, 0.5):.0f} ms, p95 {pct(took, 0.95):.0f} ms, max {max(took) * 1000:.0f} ms ({count} clicks)",
        f"reply typed in a thread → shown:            p50 {pct(typed, 0.5):.0f} ms, p95 {pct(typed, 0.95):.0f} ms, max {max(typed) * 1000:.0f} ms",
    ]


def page_clicks(box: SandboxProcess, count: int) -> list[str]:
    from playwright.sync_api import expect

    from tests.browser import CHROMIUM, act_as, card, chromium

    if not CHROMIUM.exists():
        return ["in the page: skipped (no Chromium)"]
    numbers = [m["text"].split(" · ")[0].split()[-1] for m in file_tickets(box, count, "page ticket")]
    took = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(box.url)
        act_as(page, cast.AGENT.id)
        for number in numbers:
            shown = card(page, number)
            button = shown.get_by_role("button", name="Assign to Me")
            expect(button).to_be_visible()
            began = time.perf_counter()
            button.click()
            expect(shown).to_contain_text("In Progress", timeout=5_000)
            took.append(time.perf_counter() - began)
    return [
        f"in the page: click Assign to Me → card on screen In Progress: p50 {pct(took, 0.5):.0f} ms, "
        f"p95 {pct(took, 0.95):.0f} ms, max {max(took) * 1000:.0f} ms ({count} clicks)"
    ]


def resets(box: SandboxProcess, count: int) -> list[str]:
    took = []
    for _ in range(count):
        began = time.perf_counter()
        box.ok("/api/reset")
        box.wait(cast.AGENT.id, lambda s: demo_in(s) or None, "the demo data", timeout=30)
        took.append(time.perf_counter() - began)
    return [f"reset → demo data in again: median {statistics.median(took):.2f} s, max {max(took):.2f} s ({count} resets)"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--clicks", type=int, default=30)
    args = parser.parse_args()
    for line in starts(args.starts):
        print(line, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        box = launch(sandbox_command(free_port(), Path(folder)))
        try:
            box.wait(cast.AGENT.id, lambda s: demo_in(s) or None, "the demo data", timeout=30)
            for line in clicks(box, args.clicks) + page_clicks(box, args.clicks) + resets(box, 3):
                print(line, flush=True)
        finally:
            box.stop()


if __name__ == "__main__":
    main()
