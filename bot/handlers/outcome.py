"""Running a service change for a person and telling them how it went."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps
from bot.notifier import TicketNotifier
from bot.services.errors import ActionNotAllowed, ServiceError
from bot.services.records import Change
from db.retry import with_db_retries

log = logging.getLogger(__name__)
T = TypeVar("T")

# Work happens after the ack, so a short database outage can be waited out.
DB_RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0)
DB_DOWN = "The ticket database is not answering right now, so nothing changed. Please try again in a few minutes."


def attempt(notifier: TicketNotifier, channel: str | None, actor: str, work: Callable[[], T]) -> T | None:
    """Run a service call for a person; on a refusal or a database outage tell them why
    (the change did not happen) and return None."""
    try:
        return with_db_retries(work, DB_RETRY_DELAYS)
    except SQLAlchemyError:
        log.exception("a ticket change failed on the database")
        notifier.tell(channel, actor, DB_DOWN)
    except ActionNotAllowed as err:
        notifier.tell(channel, actor, str(err))
        notifier.refresh_card(err.ticket)  # the card they clicked may be stale
    except ServiceError as err:
        notifier.tell(channel, actor, str(err))
    return None


def apply_change(
    deps: Deps,
    client: WebClient,
    channel: str | None,
    actor: str,
    change: Callable[[], Change],
    card_ts: str | None = None,
) -> None:
    notifier = deps.notifier_for(client)
    result = attempt(notifier, channel, actor, change)
    if result is None:
        return
    log.info("%s: %s", result.ticket.number, result.event.kind, extra={"ticket": result.ticket.number, "slack_user": actor})
    notifier.publish_change(result, (channel, card_ts) if channel and card_ts else None)
    deps.home.refresh(client, deps.workspace_url.get(client), result.ticket, result)
