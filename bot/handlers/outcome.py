"""Running a service change for a person and telling them how it went."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_sdk import WebClient

from bot.deps import Deps
from bot.services.errors import ActionNotAllowed, ServiceError
from bot.services.records import Change

log = logging.getLogger(__name__)


def apply_change(
    deps: Deps,
    client: WebClient,
    channel: str | None,
    actor: str,
    change: Callable[[], Change],
    card_ts: str | None = None,
) -> None:
    notifier = deps.notifier_for(client)
    try:
        result = change()
    except ActionNotAllowed as err:
        notifier.tell(channel, actor, str(err))
        notifier.refresh_card(err.ticket)  # the card they clicked may be stale
        return
    except ServiceError as err:
        notifier.tell(channel, actor, str(err))
        return
    log.info("%s: %s by %s", result.ticket.number, result.event.kind, actor)
    notifier.publish_change(result, (channel, card_ts) if channel and card_ts else None)
