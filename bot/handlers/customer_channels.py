"""Customer channels (Slack Connect): an intake channel shared with another organisation
becomes one when Slack says so (``channel_shared``), with that organisation as its account
(its name looked up off the ack); admins mark or unmark one from the Admin section of the
Home tab, with its own acknowledgment, and the change applies to the next message.

A channel's life: ``channel_id_changed`` moves every stored reference to the new id;
``channel_unshared`` puts its open cases on hold; ``channel_shared`` again resumes them.
Each is stored before Slack's envelope is acked (a listener middleware, as for messages):
what is not stored in time is answered 503, and Slack delivers it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps, deps_of
from bot.handlers.admin import ADMINS_ONLY, SLACK_SLOW, _checked, _problems, _save, channel_problem
from bot.handlers.messages import NOT_STORED, STORE_WAIT
from bot.handlers.outcome import answer, store_then_ack
from bot.services.channel_life import UNSHARED
from bot.services.directory import NotAllowed
from bot.services.errors import ServiceError
from bot.slack.replies import tell
from bot.views import notices
from bot.views.admin import ADMIN_CUSTOMER_CHANNELS, VALUE
from bot.views.customer_channels import CUSTOMER_CHANNEL_VIEW, UNMARK, customer_channel_modal
from bot.views.notices import SOLVED

log = logging.getLogger(__name__)

# The manifest's bot_events these listeners need.
BOT_EVENTS = ("channel_shared", "channel_unshared", "channel_id_changed")


def stored_first(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> BoltResponse | None:
    """The listener middleware that does what a channel event says before Bolt acks it,
    waiting at most ``STORE_WAIT``; not done by then: 503, and Slack delivers it again."""
    deps, event = deps_of(context), body.get("event") or {}
    work = deps.store_first.submit(CHANNEL_EVENTS[str(event.get("type"))], deps, event)
    try:
        work.result(timeout=STORE_WAIT)
    except Exception as err:  # FutureTimeout included: the database too slow or down
        log.warning("a %s event was not stored (%s); not acked, so Slack delivers it again", event.get("type"), type(err).__name__)
        return BoltResponse(status=NOT_STORED, body="")
    next()
    return None


def done(ack: Ack) -> None:
    """Bolt's listener, which acks: the work was done before (see ``stored_first``)."""
    ack()


def channel_shared(deps: Deps, event: dict[str, Any]) -> None:
    channel, team = str(event.get("channel") or ""), str(event.get("connected_team_id") or "") or None
    if not channel:
        return
    if channel not in deps.settings.intake_channels and deps.customers.get(channel) is None:
        return  # a channel the bot is in for other reasons: sharing it makes no intake of it
    deps.customers.detected(channel, team)
    log.info("channel %s is shared with %s: its external members' messages are customers'", channel, team)
    if deps.channel_life.reshared(channel) is not None:
        log.info("customer channel %s is shared again: its held cases resume", channel)
    if team:
        deps.lookups.submit(deps.customers.refresh, team)


def channel_unshared(deps: Deps, event: dict[str, Any]) -> None:
    """The share ended: the customer reads nothing more there. Still shared with another
    organisation, it is held only when the one that left is its account."""
    channel, left = str(event.get("channel") or ""), str(event.get("previously_connected_team_id") or "")
    record = deps.customers.get(channel) if channel else None
    if record is None:
        return
    if event.get("is_ext_shared") and left != record.account_id:
        return  # another organisation left a channel still shared with its account
    deps.channel_life.gone(channel, UNSHARED)


def channel_id_changed(deps: Deps, event: dict[str, Any]) -> None:
    """A private channel's id changes as soon as its share starts: the stored references
    follow. A channel the settings name by its old id keeps being read as a customer
    channel under the new one (it is being shared); the setup doctor says to fix the setting."""
    old, new = str(event.get("old_channel_id") or ""), str(event.get("new_channel_id") or "")
    if not old or not new:
        return
    had_row = deps.customers.get(old) is not None
    deps.channel_life.moved(old, new)
    if old in deps.settings.intake_channels and not had_row:
        deps.customers.detected(new, None)
    named = [n for n, c in deps.settings.named_channels().items() if c == old]
    if named:
        log.warning("channel %s is now %s: change %s to %s", old, new, ", ".join(named), new)


CHANNEL_EVENTS: dict[str, Callable[[Deps, dict[str, Any]], None]] = {
    "channel_shared": channel_shared,
    "channel_unshared": channel_unshared,
    "channel_id_changed": channel_id_changed,
}


def open_modal(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    if not deps.directory.is_admin(user):
        tell(client, None, user, ADMINS_ONLY)
        return
    client.views_open(trigger_id=body["trigger_id"], view=customer_channel_modal(len(deps.customers.all())))


def _value(view: dict[str, Any], block: str) -> dict[str, Any]:
    found: dict[str, Any] = view.get("state", {}).get("values", {}).get(block, {}).get(VALUE) or {}
    return found


def _connected_team(client: WebClient, channel: str) -> str | None:
    """The other organisation Slack says the channel is shared with, if any."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError:
        return None
    teams = info.get("connected_team_ids") or [] if info.get("is_ext_shared") else []
    return str(teams[0]) if teams else None


def submit_modal(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Answered within Slack's 3 s whatever Slack and the database do: the checks get the
    admin section's budget for asking Slack, the write its budget for storing."""
    deps = deps_of(context)
    actor = body["user"]["id"]
    channel = str(_value(view, "channel").get("selected_conversation") or "")
    mode = str((_value(view, "mode").get("selected_option") or {}).get("value") or "")
    ack_text = str(_value(view, "ack").get("value") or "")
    if not channel:
        ack(response_action="errors", errors={"channel": "Choose the channel."})
        return
    if not deps.directory.is_admin(actor):
        ack(response_action="errors", errors={"channel": ADMINS_ONLY})
        return
    team: list[str | None] = [None]
    if mode != UNMARK:

        def check() -> dict[str, str]:
            problems = _problems(("channel", channel_problem(client, channel)))
            if not problems:
                team[0] = _connected_team(client, channel)
            return problems

        problems = _checked(deps, check)
        if problems != {}:
            ack(response_action="errors", errors=problems or {"channel": SLACK_SLOW})
            return
    if _save(deps, ack, lambda: _store(deps, actor, channel, mode, ack_text, team[0]), "channel"):
        log.info("%s made %s %s", actor, channel, "no customer channel" if mode == UNMARK else "a customer channel",
                 extra={"slack_user": actor})
        if team[0]:
            deps.lookups.submit(deps.customers.refresh, team[0])


def _store(deps: Deps, actor: str, channel: str, mode: str, ack_text: str, team: str | None) -> None:
    try:
        if mode == UNMARK:
            deps.customers.unmark(actor, channel)
        else:
            deps.customers.mark(actor, channel, account_id=team, ack_text=ack_text)
    except NotAllowed:
        raise
    except ServiceError as err:  # shown on the input it is about
        raise NotAllowed(str(err), "ack" if "acknowledgment" in str(err) else "channel") from err


def solved(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The customer's "This is solved" on the acknowledgment in their thread: their case is
    resolved in their name (the service checks they asked it), the card and the thread follow."""
    deps, user = deps_of(context), body["user"]["id"]
    channel = (body.get("container") or {}).get("channel_id")
    value = str(body["actions"][0].get("value") or "")
    if not value.isdigit():
        ack()
        return
    change = answer(client, deps, channel, user, store_then_ack(deps, ack, lambda: deps.tickets.solved_by_requester(int(value), user)))
    ts = (body.get("container") or {}).get("message_ts")
    if change is None or not (channel and ts):
        return
    # The click answered on the message clicked, as the survey's are: the button gives way to who pressed it.
    said = str((body.get("message") or {}).get("text") or "")
    try:
        client.chat_update(channel=channel, ts=ts, text=said, blocks=notices.customer_solved_blocks(said, user))
    except SlackApiError as err:
        log.warning("the acknowledgment could not be updated: %s", err.response.get("error"))


def register(app: App) -> None:
    app.action(SOLVED)(solved)
    for event in CHANNEL_EVENTS:
        app.event(event, middleware=[stored_first])(done)
    app.action(ADMIN_CUSTOMER_CHANNELS)(open_modal)
    app.view(CUSTOMER_CHANNEL_VIEW)(submit_modal)
