"""/agent-tickets and /system-tickets: a paged list modal, its tabs, filter and paging;
``/system-tickets … export``: the same list as a CSV file in the agent's DM."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps, deps_of
from bot.handlers.outcome import DB_DOWN
from bot.services.errors import PermissionDenied
from bot.services.export import ExportRequests
from bot.services.queries import PAGE_SIZE, TicketFilter
from bot.services.status import Priority, Status
from bot.services.tickets import utcnow
from bot.slack.replies import tell
from bot.views import notices
from bot.views.home import HOME_SEARCH, SEARCH_MAX
from bot.views.text import escape, is_slack_user
from bot.views.ticket_list import (
    ALL_STATUSES,
    PAGE_NEXT,
    PAGE_PREVIOUS,
    STATUS_FILTER,
    TAB,
    ListState,
    loading_view,
    ticket_list_view,
)

log = logging.getLogger(__name__)

STATUS_WORDS = {
    "open": Status.OPEN,
    "in-progress": Status.IN_PROGRESS,
    "in_progress": Status.IN_PROGRESS,
    "progress": Status.IN_PROGRESS,
    "waiting": Status.WAITING,
    "resolved": Status.RESOLVED,
    "closed": Status.CLOSED,
}
PRIORITY_WORDS = {p.value: p for p in Priority}
USAGE = {
    "mine": "Usage: `/agent-tickets [open|in-progress|resolved|closed] [assigned]`, e.g. `/agent-tickets closed`.",
    "all": "Usage: `/system-tickets [open|in-progress|waiting|resolved|closed] [high|medium|low] [campaign:NAME] "
    "[type:NAME] [team:NAME] [account:NAME] [assignee:me|none|U…] [breached|due:today] [sort:due] [FIELD:VALUE] [search words] [export]`, "
    "e.g. `/system-tickets high open assignee:none`, `/system-tickets breached sort:due` or `/system-tickets region:EMEA`.",
}
FIELD_WORDS = ("campaign:", "type:", "assignee:", "team:", "sort:", "due:", "account:")
# SLA words: the next target already breached, or falling before the day ends (TIMEZONE).
DUE_WORDS = {"breached": "breached", "due:today": "today", "due:breached": "breached"}
# The last word of /system-tickets that sends the list as a CSV file instead of showing it.
EXPORT_WORD = "export"
BAD_SORT = "`sort:` takes `due` (the soonest SLA target first) or `newest`, e.g. `/system-tickets sort:due`."
BAD_DUE = "`due:` takes `today` or `breached`, e.g. `/system-tickets due:today sort:due`."
BAD_ASSIGNEE = (
    "`assignee:` takes `me`, `none`, a mention or a member ID such as `U0123456789` "
    "(profile → ⋮ → Copy member ID), e.g. `/system-tickets assignee:none`."
)


# An issue type's extra field (bot/services/forms.py), as key:value; a link is no field.
CUSTOM_FIELD = re.compile(r"^([a-z0-9_]{1,30}):(\S+)$")
NOT_FIELDS = ("http", "https", "mailto")


class BadWord(ValueError):
    """A word of the command that cannot be taken as written; the message says what fits."""


def _assignee(raw: str | None, viewer: str) -> str | None:
    """``assignee:`` as a user ID, ``none`` or None (not given); raises BadWord otherwise."""
    value = (raw or "").strip()
    if not value:
        return None
    if value.lower() in ("me", "none"):
        return viewer if value.lower() == "me" else "none"
    # A mention arrives as <@U0123456789|name>.
    user_id = value.removeprefix("<@").removesuffix(">").split("|")[0].upper()
    if not is_slack_user(user_id):
        raise BadWord(BAD_ASSIGNEE)
    return user_id


def parse_words(text: str, scope: str, viewer: str = "") -> ListState | None:
    """Command text → list state; None when a word means nothing here, BadWord when a
    word's value cannot be used."""
    statuses: list[str] = []
    priorities: list[str] = []
    rest: list[str] = []
    fields: dict[str, str] = {}
    custom: list[tuple[str, str]] = []
    tab = "submitted"
    due: str | None = None
    for word in text.split():
        key = word.lower()
        if scope == "all" and key in DUE_WORDS:
            due = DUE_WORDS[key]
        elif scope == "all" and key.startswith(FIELD_WORDS):
            name, _, value = word.partition(":")
            fields[name.lower()] = value.replace("_", " ")
        elif scope == "all" and (m := CUSTOM_FIELD.match(key)) and m.group(1) not in NOT_FIELDS:
            custom.append((m.group(1), word.partition(":")[2].replace("_", " ")))
        elif key in STATUS_WORDS:
            statuses.append(STATUS_WORDS[key].value)
        elif scope == "all" and key in PRIORITY_WORDS:
            priorities.append(key)
        elif scope == "mine" and key in ("assigned", "mine", "submitted"):
            tab = "assigned" if key == "assigned" else "submitted"
        elif scope == "all":
            rest.append(word)
        else:
            return None
    assignee = _assignee(fields.get("assignee"), viewer)
    sort = (fields.get("sort") or "newest").lower()
    if sort not in ("due", "newest"):
        raise BadWord(BAD_SORT)
    if "due" in fields:
        raise BadWord(BAD_DUE)  # a due: word that DUE_WORDS did not take
    return ListState(
        scope=scope,
        tab=tab,
        statuses=tuple(dict.fromkeys(statuses)),
        priorities=tuple(dict.fromkeys(priorities)),
        campaign=fields.get("campaign") or None,
        issue_type=fields.get("type") or None,
        assignee=assignee,
        text=" ".join(rest) or None,
        team=fields.get("team") or None,
        sort="due" if sort == "due" else None,
        due=due,
        fields=tuple(dict.fromkeys(custom)),
        account=fields.get("account") or None,
    )


def unknown_team(deps: Deps, name: str) -> str:
    """One line for a team:NAME that names no team, with the names that would do."""
    known = ", ".join(f"`{t.name.replace(' ', '_')}`" for t in deps.directory.teams()) or "none yet"
    return f"There is no team called “{escape(name)}”. Teams: {known}."


def due_before(due: str | None, now: datetime, tz: ZoneInfo) -> datetime | None:
    """``breached``: now; ``today``: the end of the day in the desk's zone."""
    if due == "breached":
        return now
    if due == "today":
        local = now.astimezone(tz)
        return datetime.combine(local.date() + timedelta(days=1), time(), tz).astimezone(UTC)
    return None


def to_filter(
    state: ListState,
    viewer: str,
    team_id: int | None = None,
    *,
    now: datetime | None = None,
    tz: ZoneInfo | None = None,
    account_ids: tuple[str, ...] = (),
) -> TicketFilter:
    own = state.scope == "mine"
    assignee = viewer if own and state.tab == "assigned" else None
    if not own and state.assignee and state.assignee != "none":
        assignee = state.assignee
    return TicketFilter(
        reporter_id=viewer if own and state.tab == "submitted" else None,
        assignee_id=assignee,
        unassigned=not own and state.assignee == "none",
        statuses=tuple(Status(s) for s in state.statuses),
        priorities=tuple(Priority(p) for p in state.priorities),
        campaign=state.campaign,
        issue_type=state.issue_type,
        text=state.text,
        team_id=team_id,
        due_before=due_before(state.due, now or utcnow(), tz or ZoneInfo("UTC")),
        by_due=state.sort == "due",
        fields=state.fields,
        account_ids=account_ids,
    )


def _team_id(deps: Deps, state: ListState) -> int | None:
    if not state.team:
        return None
    team = deps.directory.team_named(state.team)
    return team.id if team else -1  # removed since the list opened: nothing is in it


def _filter(deps: Deps, state: ListState, viewer: str, now: datetime) -> TicketFilter:
    accounts = tuple(deps.customers.named(state.account)) if state.account else ()
    return to_filter(state, viewer, _team_id(deps, state), now=now, tz=deps.settings.tz, account_ids=accounts)


def render(deps: Deps, state: ListState, viewer: str, team_url: str | None, report: str | None = None) -> dict[str, Any]:
    now = deps.clock()
    page = deps.queries.page(viewer, _filter(deps, state, viewer, now), state.offset)
    if not page.tickets and page.total and state.offset:
        # The list shrank under the viewer (tickets closed meanwhile): show the last page.
        last = max(0, (page.total - 1) // page.limit * page.limit)
        state = state.moved(last)
        page = deps.queries.page(viewer, _filter(deps, state, viewer, now), state.offset)
    # All tickets: each row can be ticked for a bulk action (bot/handlers/bulk_actions.py).
    teams = [(t.id, t.name) for t in deps.directory.teams()] if state.scope == "all" else None
    return ticket_list_view(state, page, now, team_url, deps.settings.service_levels.calendar, teams=teams, report=report)


def _open_list(scope: str, ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
    ack()
    deps = deps_of(context)
    text = command.get("text") or ""

    def answer(line: str) -> None:
        respond(text=line, response_type="ephemeral")

    show_list(deps, client, command["trigger_id"], command["user_id"], scope, text, answer)


def _checked_state(
    deps: Deps, viewer: str, scope: str, text: str, answer: Callable[[str], None], action: str = "see all"
) -> ListState | None:
    """The list ``text`` asks for; None when a refusal (to ``action`` it) or a word that does
    not fit went to ``answer``."""
    if scope == "all" and not deps.tickets.is_agent(viewer):
        answer(str(PermissionDenied(action)))
        return None
    try:
        state = parse_words(text, scope, viewer)
    except BadWord as err:
        answer(str(err))
        return None
    if state is None:
        answer(USAGE[scope])
        return None
    if state.team and deps.directory.team_named(state.team) is None:
        answer(unknown_team(deps, state.team))
        return None
    keys = deps.forms.field_keys() if state.fields else []
    unknown = [key for key, _ in state.fields if key not in keys]
    if unknown:
        known = ", ".join(f"`{k}`" for k in keys) or "none yet"
        answer(f"No issue type has a field `{unknown[0]}` (fields: {known}). A word with a colon is taken as field:value.")
        return None
    return state


def show_list(
    deps: Deps, client: WebClient, trigger_id: str, viewer: str, scope: str, text: str, answer: Callable[[str], None]
) -> None:
    """The list ``text`` asks for (a command's words, a Home search), opened on ``trigger_id``;
    a refusal or a word that does not fit goes to ``answer`` instead."""
    state = _checked_state(deps, viewer, scope, text, answer)
    if state is None:
        return
    title = "All tickets" if scope == "all" else "My tickets"
    # A light view first, inside the trigger's 3 s; the query fills it in.
    opened = client.views_open(trigger_id=trigger_id, view=loading_view(title))["view"]
    client.views_update(view_id=opened["id"], hash=opened["hash"], view=render(deps, state, viewer, deps.workspace_url.get(client)))


def search_from_home(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Enter in the Home tab's search box: the list /system-tickets with those words shows."""
    ack()
    viewer = body["user"]["id"]
    words = str(body["actions"][0].get("value") or "")[:SEARCH_MAX]
    show_list(deps_of(context), client, body["trigger_id"], viewer, "all", words, lambda line: tell(client, None, viewer, line))


def agent_tickets(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
    _open_list("mine", ack, command, client, context, respond)


def system_tickets(ack: Ack, command: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond) -> None:
    words = (command.get("text") or "").split()
    if words and words[-1].lower() == EXPORT_WORD:
        ack()

        def answer(line: str) -> None:
            respond(text=line, response_type="ephemeral")

        export_list(deps_of(context), command["user_id"], " ".join(words[:-1]), answer)
        return
    _open_list("all", ack, command, client, context, respond)


def export_list(deps: Deps, viewer: str, text: str, answer: Callable[[str], None]) -> None:
    """Owe ``viewer`` the CSV file of the list ``text`` asks for, in their DM (agents only)."""
    state = _checked_state(deps, viewer, "all", text, answer, action="export")
    if state is None:
        return
    if deps.db is None:
        raise RuntimeError("exports need the desk's database (Deps.db)")
    try:
        ExportRequests(deps.db, deps.settings.system_users, deps.clock).request(viewer, _filter(deps, state, viewer, deps.clock()), text)
    except PermissionDenied as err:
        answer(str(err))
        return
    except SQLAlchemyError:  # the command was acked: the agent is told nothing was asked for
        log.exception("an export could not be asked for")
        answer(DB_DOWN)
        return
    answer(notices.export_preparing(text))


def _update_list(body: dict[str, Any], client: WebClient, context: BoltContext, change: Any) -> None:
    deps = deps_of(context)
    view = body["view"]
    viewer = body["user"]["id"]
    state: ListState = change(ListState.from_metadata(view.get("private_metadata", "")))
    try:
        rendered = render(deps, state, viewer, deps.workspace_url.get(client))
    except PermissionDenied as err:
        # An outsider replaying an agent's list payload: nothing new to see, and told why.
        tell(client, None, viewer, str(err))
        return
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=rendered)


def next_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    _update_list(body, client, context, lambda s: s.moved(s.offset + PAGE_SIZE))


def previous_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    _update_list(body, client, context, lambda s: s.moved(s.offset - PAGE_SIZE))


def switch_tab(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    tab = body["actions"][0]["value"]
    _update_list(body, client, context, lambda s: replace(s, tab=tab, offset=0))


def filter_status(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    value = body["actions"][0]["selected_option"]["value"]
    statuses = () if value == ALL_STATUSES else (Status(value).value,)
    _update_list(body, client, context, lambda s: replace(s, statuses=statuses, offset=0))


COMMANDS = {"/agent-tickets": agent_tickets, "/system-tickets": system_tickets}


def register(app: App) -> None:
    for name, listener in COMMANDS.items():
        app.command(name)(listener)
    app.action(PAGE_NEXT)(next_page)
    app.action(HOME_SEARCH)(search_from_home)
    app.action(PAGE_PREVIOUS)(previous_page)
    app.action(f"{TAB}:submitted")(switch_tab)
    app.action(f"{TAB}:assigned")(switch_tab)
    app.action(STATUS_FILTER)(filter_status)
