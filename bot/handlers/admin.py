"""The Admin section of the App Home and its modals, and every agent's availability.

Permissions are the directory's: a button an admin's tab shows is refused to anyone else
when it is pressed (the modal is not opened) and again when its modal is saved. A save is
checked with Slack first (the people are real, active, not bots; the bot is in the channel),
stored before the modal closes, and refused inline (``response_action: errors``) with
what to fix. What a change shows on Home tabs goes out through the outbox.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.deps import Deps, deps_of
from bot.handlers.outcome import ACK_BUDGET, DB_RETRY_DELAYS, answer, store_then_ack
from bot.services.directory import Conflict, NewRule, NotAllowed, Role, TeamDraft, parse_addresses
from bot.services.team_service_levels import DAYS, HOLIDAYS, HOURS, POLICY_INPUTS, TIMEZONE, TeamLevels, check_team_levels
from bot.slack.replies import tell
from bot.views.admin import (
    ADD_AGENT_VIEW,
    ADMIN_ADD_AGENT,
    ADMIN_CC,
    ADMIN_EDIT_TEAM,
    ADMIN_NEW_TEAM,
    ADMIN_PAGE,
    ADMIN_PERSON,
    ADMIN_RULES,
    CC_SETTING,
    CC_VIEW,
    HOME_AWAY,
    HOME_AWAY_UNTIL,
    HOME_BACK,
    RULE_FIELD,
    RULE_REMOVE,
    RULES_VIEW,
    TEAM_VIEW,
    VALUE,
    add_agent_modal,
    cc_modal,
    rules_modal,
    team_modal,
)
from db.retry import with_db_retries

log = logging.getLogger(__name__)
T = TypeVar("T")

ADMINS_ONLY = "Only admins can manage the desk's people, teams and rules: ask one of them."
CHECK_BUDGET = 1.0  # seconds a save may spend asking Slack about people and channels
NOT_SAVED = "This could not be saved just now (the desk's database is not answering). Press Save again in a moment."
SLACK_SLOW = "Slack did not answer in time to check this. Press Save again."


# ---- reading a submission ------------------------------------------------------------------


def _state(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    found: dict[str, Any] = view.get("state", {}).get("values", {}).get(block_id, {}).get(VALUE) or {}
    return found


def _text(view: dict[str, Any], block_id: str) -> str:
    return str(_state(view, block_id).get("value") or "").strip()


def _option(view: dict[str, Any], block_id: str) -> str:
    return str((_state(view, block_id).get("selected_option") or {}).get("value") or "")


def _channel(view: dict[str, Any], block_id: str) -> str:
    state = _state(view, block_id)
    return str(state.get("selected_conversation") or state.get("selected_channel") or "")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        found = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


# ---- asking Slack ------------------------------------------------------------------------------


def person_problem(client: WebClient, user: str) -> str | None:
    """Why this user cannot be an agent, or None: unknown, deactivated or a bot."""
    try:
        info = client.users_info(user=user)["user"]
    except SlackApiError as err:
        if err.response.get("error") == "user_not_found":
            return f"<@{user}> is not a member of this workspace: choose someone else."
        return f"Slack could not tell who <@{user}> is ({err.response.get('error')}): try again."
    if info.get("deleted"):
        return f"<@{user}>'s account is deactivated: choose someone else."
    if info.get("is_bot") or info.get("is_app_user"):
        return f"<@{user}> is a bot or an app: agents are people."
    return None


def channel_problem(client: WebClient, channel: str) -> str | None:
    """Why the bot cannot post in this channel, or None."""
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as err:
        if err.response.get("error") == "channel_not_found":
            return "Casedesk cannot see that channel: in it, type /invite @Casedesk, then save again."
        return f"Slack could not check that channel ({err.response.get('error')}): try again."
    if info.get("is_im") or info.get("is_mpim"):
        return "Choose a channel, not a direct message."
    if not info.get("is_member"):
        return f"Casedesk is not in <#{channel}>: in it, type /invite @Casedesk, then save again."
    return None


def _checked(deps: Deps, work: Callable[[], dict[str, str]], budget: float = CHECK_BUDGET) -> dict[str, str] | None:
    """The problems ``work`` (calls to Slack) finds, by input; None when Slack did not
    answer within ``budget``: a submission must be answered within 3 s, errors included."""
    future = deps.store_first.submit(work)
    try:
        return future.result(timeout=budget)
    except FutureTimeout:
        log.warning("Slack took longer than %.1f s to answer a check; the admin is asked to save again", budget)
        return None


def _save(deps: Deps, ack: Ack, work: Callable[[], object], first_block: str, **ack_args: Any) -> bool:
    """Store an admin's change before the modal closes; a refusal is shown on its input."""
    future = deps.store_first.submit(with_db_retries, work, DB_RETRY_DELAYS)
    try:
        future.result(timeout=ACK_BUDGET)
    except NotAllowed as err:
        ack(response_action="errors", errors={err.field or first_block: str(err)})
        return False
    except Conflict as err:
        ack(response_action="errors", errors={first_block: str(err)})
        return False
    except Exception:  # the database is down or too slow: the admin keeps the form
        log.exception("an admin's change could not be stored in time")
        ack(response_action="errors", errors={first_block: NOT_SAVED})
        return False
    ack(**ack_args)
    return True


def _admin_or_tell(deps: Deps, client: WebClient, user: str) -> bool:
    if deps.directory.is_admin(user):
        return True
    tell(client, None, user, ADMINS_ONLY)
    return False


# ---- people ------------------------------------------------------------------------------------


def open_add_agent(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if _admin_or_tell(deps, client, body["user"]["id"]):
        client.views_open(trigger_id=body["trigger_id"], view=add_agent_modal(deps.directory.teams()))


def submit_add_agent(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    user = str(_state(view, "user").get("selected_user") or "")
    role = _option(view, "role") or Role.AGENT.value
    if not user:
        ack(response_action="errors", errors={"user": "Choose who to add."})
        return
    if role not in (Role.AGENT.value, Role.ADMIN.value):
        ack(response_action="errors", errors={"role": "Choose Agent or Admin."})
        return
    if deps.directory.role_of(user) is Role.NONE:  # one already at the desk is refused below
        problems = _checked(deps, lambda: _problems(("user", person_problem(client, user))))
        if problems != {}:
            ack(response_action="errors", errors=problems or {"user": SLACK_SLOW})
            return
    teams = [int(o["value"]) for o in _state(view, "teams").get("selected_options") or [] if str(o.get("value", "")).isdigit()]
    if _save(deps, ack, lambda: deps.directory.add_agent(actor, user, Role(role), teams), "user"):
        log.info("%s added %s as %s", actor, user, role, extra={"slack_user": actor})


def person_menu(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Make admin, Revoke admin or Remove from the desk, beside a person on the Admin section."""
    deps = deps_of(context)
    actor = body["user"]["id"]
    chosen = str((body["actions"][0].get("selected_option") or {}).get("value") or "")
    role, _, user = chosen.partition(":")
    if role not in {r.value for r in Role} or not user:
        ack()
        return
    answer(client, deps, None, actor, store_then_ack(deps, ack, lambda: deps.directory.set_role(actor, user, Role(role))))


# ---- availability ------------------------------------------------------------------------------


def _set_away(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, away: bool, until: datetime | None) -> None:
    deps = deps_of(context)
    user = body["user"]["id"]
    answer(client, deps, None, user, store_then_ack(deps, ack, lambda: deps.directory.set_away(user, user, away, until)))


def away(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _set_away(ack, body, client, context, True, None)


def back(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    _set_away(ack, body, client, context, False, None)


def away_until(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Away through the day picked: until the midnight after it, in the desk's time zone."""
    picked = str(body["actions"][0].get("selected_date") or "")
    try:
        day = date.fromisoformat(picked)
    except ValueError:
        ack()
        return
    tz = deps_of(context).settings.tz
    until = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)
    _set_away(ack, body, client, context, True, until)


# ---- teams -------------------------------------------------------------------------------------


def open_new_team(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if _admin_or_tell(deps, client, body["user"]["id"]):
        client.views_open(trigger_id=body["trigger_id"], view=team_modal(None))


def open_edit_team(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    if not _admin_or_tell(deps, client, user):
        return
    value = str(body["actions"][0].get("value") or "")
    team = deps.directory.team(int(value)) if value.isdigit() else None
    if team is None:
        tell(client, None, user, "That team no longer exists.")
        return
    client.views_open(trigger_id=body["trigger_id"], view=team_modal(team, deps.directory.service_levels_of(team.id)))


def _problems(*found: tuple[str, str | None]) -> dict[str, str]:
    """The first problem found for each input."""
    errors: dict[str, str] = {}
    for block, problem in found:
        if problem and block not in errors:
            errors[block] = problem
    return errors


def _written_levels(view: dict[str, Any]) -> TeamLevels:
    """The team's own service levels as the admin wrote them in its modal."""
    return TeamLevels(_text(view, TIMEZONE), _text(view, DAYS), _text(view, HOURS), _text(view, HOLIDAYS),
                      {p: _text(view, block) for p, block in POLICY_INPUTS.items()})


def _team_checks(client: WebClient, channel: str, people: list[tuple[str, str]]) -> dict[str, str]:
    errors = _problems(("channel", channel_problem(client, channel) if channel else None))
    for block, user in people:
        if block not in errors:
            errors.update(_problems((block, person_problem(client, user))))
    return errors


def submit_team(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    meta = _metadata(view)
    team_id = meta.get("team_id") if isinstance(meta.get("team_id"), int) else None
    version = int(meta.get("version") or 0)
    name = _text(view, "name")
    channel = _channel(view, "channel")
    emails, bad = parse_addresses(_text(view, "emails"))
    lead = str(_state(view, "lead").get("selected_user") or "")
    members = [str(u) for u in _state(view, "members").get("selected_users") or []]
    auto = _option(view, "auto_assign") or "off"
    levels, errors = check_team_levels(_written_levels(view))
    if not name:
        errors["name"] = "Give the team a name."
    if bad:
        errors["emails"] = f"Not an email address: {', '.join(bad[:5])}. Separate addresses with commas."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    # Only the people new to the team are asked about (the others were checked when added).
    current = deps.directory.team(team_id) if team_id is not None else None
    known = set(current.members) if current else set()
    if current and current.lead_id:
        known.add(current.lead_id)
    fresh = [("members", u) for u in members if u not in known and deps.directory.is_agent(u)]
    if lead and lead not in known and deps.directory.is_agent(lead):
        fresh.insert(0, ("lead", lead))
    found = _checked(deps, lambda: _team_checks(client, channel, fresh[:10]))
    if found != {}:
        ack(response_action="errors", errors=found or {"name": SLACK_SLOW})
        return
    draft = TeamDraft(name=name, triage_channel=channel or None, notify_emails=emails, lead_id=lead or None,
                      members=tuple(members), auto_assign=auto, levels=levels)
    if _save(deps, ack, lambda: deps.directory.save_team(actor, team_id, version, draft), "name"):
        log.info("%s saved team %s", actor, name, extra={"slack_user": actor})


# ---- routing rules -------------------------------------------------------------------------------


def _rules_view(deps: Deps, field: str, nonce: int = 0, note: str | None = None) -> dict[str, Any]:
    settings = deps.settings
    return rules_modal(deps.directory.rules(), deps.directory.teams(), field, settings.issue_types, settings.campaigns, nonce, note)


def open_rules(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if _admin_or_tell(deps, client, body["user"]["id"]):
        client.views_open(trigger_id=body["trigger_id"], view=_rules_view(deps, "issue_type"))


def _update_rules(deps: Deps, client: WebClient, body: dict[str, Any], field: str, note: str | None = None) -> None:
    view = body.get("view") or {}
    nonce = int(_metadata(view).get("nonce") or 0)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=_rules_view(deps, field, nonce, note))


def rule_field(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """The admin picked what the new rule matches on: the value input changes to suit."""
    ack()
    field = str((body["actions"][0].get("selected_option") or {}).get("value") or "issue_type")
    _update_rules(deps_of(context), client, body, field)


def remove_rule(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    value = str(body["actions"][0].get("value") or "")
    field = str(_metadata(body.get("view") or {}).get("field") or "issue_type")
    if not value.isdigit():
        ack()
        return
    note = None
    try:
        store_then_ack(deps, ack, lambda: deps.directory.remove_rule(actor, int(value))).result(timeout=30)
    except NotAllowed as err:
        note = str(err)
    except Exception:
        log.exception("a routing rule could not be removed")
        note = NOT_SAVED
    _update_rules(deps, client, body, field, note)


def submit_rule(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    meta = _metadata(view)
    field = str(meta.get("field") or "issue_type")
    nonce = int(meta.get("nonce") or 0)
    value_block, team_block = f"rule_value_{nonce}", f"rule_team_{nonce}"
    team = _option(view, team_block)
    errors: dict[str, str] = {}
    value = ""
    if field in ("issue_type", "campaign"):
        choices = deps.settings.issue_types if field == "issue_type" else deps.settings.campaigns
        index = _option(view, value_block)
        if index.isdigit() and int(index) < len(choices):
            value = choices[int(index)]
        else:
            errors[value_block] = f"Choose one of the configured {'issue types' if field == 'issue_type' else 'campaigns'}."
    elif field == "intake_channel":
        value = _channel(view, value_block)
        if not value:
            errors[value_block] = "Choose the channel whose messages this rule routes."
    elif field == "account":
        value = _text(view, value_block)
        if not value:
            errors[value_block] = "Give the customer organisation's name (as the card shows it) or its Slack team ID."
    else:
        value = _text(view, value_block)
        good, bad = parse_addresses(value)
        if bad or len(good) != 1:
            errors[value_block] = "Give one mailbox address, such as help@example.com."
        else:
            value = good[0]
    if not team.isdigit():
        errors[team_block] = "Choose the team these tickets go to."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if field == "intake_channel":
        problems = _checked(deps, lambda: _problems((value_block, channel_problem(client, value))))
        if problems != {}:
            ack(response_action="errors", errors=problems or {value_block: SLACK_SLOW})
            return
    rule = NewRule(field=field, value=value, team_id=int(team))

    def add() -> dict[str, Any]:
        deps.directory.add_rule(actor, rule)
        return _rules_view(deps, field, nonce + 1)

    future = deps.store_first.submit(with_db_retries, add, DB_RETRY_DELAYS)
    try:
        updated = future.result(timeout=ACK_BUDGET)
    except NotAllowed as err:
        ack(response_action="errors", errors={value_block if err.field in (None, "value", "field") else team_block: str(err)})
        return
    except Exception:
        log.exception("a routing rule could not be stored in time")
        ack(response_action="errors", errors={value_block: NOT_SAVED})
        return
    ack(response_action="update", view=updated)
    log.info("%s added a routing rule", actor, extra={"slack_user": actor})


# ---- the CC list ---------------------------------------------------------------------------------


def open_cc(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    deps = deps_of(context)
    if _admin_or_tell(deps, client, body["user"]["id"]):
        value, version = deps.directory.setting(CC_SETTING)
        client.views_open(trigger_id=body["trigger_id"], view=cc_modal(value, version))


def submit_cc(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    actor = body["user"]["id"]
    good, bad = parse_addresses(_text(view, "cc"))
    if bad:
        ack(response_action="errors", errors={"cc": f"Not an email address: {', '.join(bad[:5])}. Separate addresses with commas."})
        return
    version = int(_metadata(view).get("version") or 0)
    _save(deps, ack, lambda: deps.directory.set_setting(actor, CC_SETTING, ",".join(good), version), "cc")


# ---- paging ------------------------------------------------------------------------------------------


def turn_page(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """Next or previous page of people or teams: only this admin's tab changes."""
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    kind, _, page = str(body["actions"][0].get("value") or "").partition(":")
    if kind in ("people", "teams") and page.isdigit():
        deps.home.turn_page(user, kind, int(page))
        deps.home.publish(client, user, deps.workspace_url.get(client))


def register(app: App) -> None:
    app.action(HOME_AWAY)(away)
    app.action(HOME_BACK)(back)
    app.action(HOME_AWAY_UNTIL)(away_until)
    app.action(ADMIN_ADD_AGENT)(open_add_agent)
    app.action(ADMIN_PERSON)(person_menu)
    app.action(ADMIN_NEW_TEAM)(open_new_team)
    app.action(ADMIN_EDIT_TEAM)(open_edit_team)
    app.action(ADMIN_RULES)(open_rules)
    app.action(ADMIN_CC)(open_cc)
    app.action(ADMIN_PAGE)(turn_page)
    app.action(RULE_FIELD)(rule_field)
    app.action(RULE_REMOVE)(remove_rule)
    app.view(ADD_AGENT_VIEW)(submit_add_agent)
    app.view(TEAM_VIEW)(submit_team)
    app.view(RULES_VIEW)(submit_rule)
    app.view(CC_VIEW)(submit_cc)
