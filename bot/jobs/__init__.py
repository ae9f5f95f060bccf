"""Scheduled jobs: each is a plain function over the service layer, runnable once from the CLI."""

from __future__ import annotations

from collections.abc import Callable

from bot.deps import Deps
from bot.jobs.cards import repair_cards

Job = Callable[[Deps], str]

# name → (job, seconds between runs)
JOBS: dict[str, tuple[Job, int]] = {
    "repair-cards": (repair_cards, 60),
}
