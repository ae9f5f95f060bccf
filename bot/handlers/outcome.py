"""Running a service change for a person: stored before the ack, and telling them how it went.

Slack never resends an acked request, so a change is committed before its ack. The
ack still has to reach Slack within 3 s: the storing runs beside the listener and the
ack waits for it at most ACK_BUDGET, then goes out whatever happened; a write that is
still running finishes on its own (a form keyed on its view ID cannot file twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from slack_bolt import Ack
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps
from bot.services.errors import ActionNotAllowed, ServiceError
from bot.services.records import Change
from bot.slack.replies import tell
from db.retry import with_db_retries

log = logging.getLogger(__name__)
T = TypeVar("T")

ACK_BUDGET = 1.5  # seconds a listener waits for its write before it acks anyway
RESULT_WAIT = 30.0  # seconds it then waits for the outcome, to tell the person of a refusal
# Retries of a connection error that still fit inside the budget.
DB_RETRY_DELAYS: tuple[float, ...] = (0.25, 0.5)
DB_DOWN = "The ticket database is not answering right now, so nothing changed. Please try again in a few minutes."


def store_then_ack(deps: Deps, ack: Ack, work: Callable[[], T], **ack_args: Any) -> Future[T]:
    """Run ``work`` (a service call that commits), wait for it up to ACK_BUDGET, then ack."""
    future = deps.store_first.submit(with_db_retries, work, DB_RETRY_DELAYS)
    try:
        future.exception(timeout=ACK_BUDGET)
    except FutureTimeout:
        log.warning("a change took longer than %.1f s to store; acked before it finished", ACK_BUDGET)
    ack(**ack_args)
    return future


def answer(client: WebClient, deps: Deps, channel: str | None, actor: str, future: Future[T]) -> T | None:
    """The result of a service call; on a refusal or a database outage tell the person why
    (the change did not happen) and return None."""
    try:
        return future.result(timeout=RESULT_WAIT)
    except FutureTimeout:  # the database hangs: the ack went out; free this thread, the write goes on
        log.error("a change is still being stored after %.0f s; not waiting for it", RESULT_WAIT)
    except SQLAlchemyError:
        log.exception("a ticket change failed on the database")
        tell(client, channel, actor, DB_DOWN)
    except ActionNotAllowed as err:
        tell(client, channel, actor, str(err))
        _redraw(deps, err.ticket.id)  # the card they clicked may be stale
    except ServiceError as err:
        tell(client, channel, actor, str(err))
    return None


def apply_change(
    deps: Deps, ack: Ack, client: WebClient, channel: str | None, actor: str, change: Callable[[], Change]
) -> None:
    """A person's change: stored (with all it owes Slack) before the ack, refusals told."""
    result = answer(client, deps, channel, actor, store_then_ack(deps, ack, change))
    if result is not None:
        log.info("%s: %s", result.ticket.number, result.event.kind, extra={"ticket": result.ticket.number, "slack_user": actor})


def _redraw(deps: Deps, ticket_id: int) -> None:
    try:
        deps.tickets.refresh_card(ticket_id)
    except SQLAlchemyError:
        log.warning("could not queue a redraw of a stale card")
