"""Outsiders cannot act as agents: the one check every interactive request and every
ticket reaction passes before any listener runs.

In a Slack Connect channel another organisation's people see the bot's messages, can
press their buttons, and their clients can send any payload (an agent's button copied,
a modal's submission). Who acts is the payload's ``user.team_id`` (a reaction's
``user_team``, else ``users.info``); ours is the installation's team (Bolt's authorize
result from ``auth.test``, else the payload's first authorization), never the envelope's
outer ``team_id``. A person of another team may use only what is meant for customers
(``CUSTOMER_ACTIONS``, ``CUSTOMER_VIEWS``), whose services check that the case is theirs;
anything else is acked with nothing done, no listener runs (so no modal opens and nothing
changes), and the person is told why in one line. Someone whose team no lookup gives is
left to the usual permission checks, which let only the directory's agents act.

Slash commands are not checked here: Slack delivers them only from our own workspace,
and their payload names no person's team. Shortcuts are, though Slack does not deliver
them from outside either: a payload may be replayed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import BoltContext, BoltResponse

from bot.deps import Deps, deps_of
from bot.services.customer_channels import is_external, our_team
from bot.slack.replies import tell
from bot.views.modals import notice_modal
from bot.views.notices import SOLVED
from bot.views.survey import COMMENT, COMMENT_MODAL, RATE_PATTERN

log = logging.getLogger(__name__)

# The buttons and modals a customer may use; each one's service checks the case is theirs.
CUSTOMER_ACTIONS: tuple[re.Pattern[str], ...] = (
    re.compile(RATE_PATTERN), re.compile(f"^{re.escape(COMMENT)}$"), re.compile(f"^{re.escape(SOLVED)}$"),
)
CUSTOMER_VIEWS: frozenset[str] = frozenset({COMMENT_MODAL})
REFUSED = (
    "Only the support team can do that here. To add to your case, write in its thread "
    "in your channel; we answer there."
)
REACTION_REFUSED = (
    "Reactions do not open cases for you: write your question in the channel and we take it from there."
)


@dataclass(frozen=True)
class Actor:
    """Who is acting, as far as the payload says, and what refusing them takes."""

    user: str
    team: str | None
    channel: str | None
    allowed: bool  # meant for customers
    text: str = REFUSED
    ack: dict[str, Any] = field(default_factory=dict)  # the ack's body when refused


def _actions_allowed(body: dict[str, Any]) -> bool:
    ids = [str(a.get("action_id") or "") for a in body.get("actions") or []]
    return bool(ids) and all(any(p.match(i) for p in CUSTOMER_ACTIONS) for i in ids)


def _interactive(body: dict[str, Any]) -> Actor | None:
    kind, user = body.get("type"), body.get("user") or {}
    if kind not in ("block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut", "message_action"):
        return None
    if not user.get("id"):
        return None
    channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
    team = str(user.get("team_id") or "") or None
    if kind == "block_actions":
        return Actor(str(user["id"]), team, channel, _actions_allowed(body))
    if kind in ("shortcut", "message_action"):  # Slack sends them only from our workspace: a replay
        return Actor(str(user["id"]), team, channel, False)
    if kind == "block_suggestion":
        return Actor(str(user["id"]), team, channel, False, ack={"options": []})
    allowed = str((body.get("view") or {}).get("callback_id") or "") in CUSTOMER_VIEWS
    # A refused submission shows why in the modal itself; a closed modal needs nothing said.
    ack = {"response_action": "update", "view": notice_modal("Not available", REFUSED)} if kind == "view_submission" else {}
    return Actor(str(user["id"]), team, None, allowed, text="", ack=ack)


def _reaction(body: dict[str, Any], ticket_reaction: str) -> Actor | None:
    event = body.get("event") or {}
    if event.get("type") != "reaction_added" or event.get("reaction") != ticket_reaction or not event.get("user"):
        return None
    if not body.get("is_ext_shared_channel"):
        return None  # only a channel shared with another organisation has its people in it
    channel = str((event.get("item") or {}).get("channel") or "") or None
    team = str(event.get("user_team") or "") or None
    return Actor(str(event["user"]), team, channel, False, text=REACTION_REFUSED)


def actor_of(body: dict[str, Any], ticket_reaction: str) -> Actor | None:
    """The person an interactive payload or a ticket reaction comes from (None: not checked here)."""
    return _interactive(body) or _reaction(body, ticket_reaction)


def refuse_outsiders(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> BoltResponse | None:
    """Bolt's global middleware: another organisation's person gets no agent action."""
    deps = deps_of(context)
    actor = actor_of(body, deps.settings.ticket_reaction)
    if actor is None or actor.allowed:
        next()
        return None
    ours = our_team(context.authorize_result.team_id if context.authorize_result else None, body.get("authorizations"))
    team = deps.customers.team_of(actor.user, actor.team)
    if is_external(team, ours) is not True:
        next()
        return None
    log.info("refused %s from %s of another organisation (%s)", body.get("type"), actor.user, team,
             extra={"slack_user": actor.user})
    if actor.text:
        _tell_later(deps, actor)
    return BoltResponse(status=200, body=actor.ack or "")


def _tell_later(deps: Deps, actor: Actor) -> None:
    """After the ack: the answer is a Slack call, and the ack must not wait for it."""
    deps.store_first.submit(tell, deps.client, actor.channel, actor.user, actor.text)
