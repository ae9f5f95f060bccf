"""Auto-close: warn the requesters of Resolved and Waiting tickets left without a reply,
then close those warned long enough ago (hourly by default; SCHEDULE_AUTO_CLOSE)."""

from __future__ import annotations

from bot.deps import Deps


def auto_close(deps: Deps) -> str:
    if deps.auto_close is None:
        return "auto-close: off"
    return deps.auto_close.sweep().summary()
