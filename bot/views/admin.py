"""The desk's people and teams in Block Kit: the Home tab's availability, My teams and
Admin sections, and the admin modals (add an agent, a team, the routing rules, the CC list)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, tzinfo
from typing import Any

from bot.services.directory import AUTO_ASSIGN, RULE_FIELDS, PersonRecord, Role, RuleRecord, TeamRecord
from bot.services.team_service_levels import DAYS, HOLIDAYS, HOURS, LABELS, MAX_LENGTHS, POLICY_INPUTS, TIMEZONE, TeamLevels

VALUE = "value"  # every input's action_id: the block_id says which input it is

# Home tab elements
HOME_AWAY = "home_away"
HOME_BACK = "home_back"
HOME_AWAY_UNTIL = "home_away_until"
ADMIN_ADD_AGENT = "admin_add_agent"
ADMIN_PERSON = "admin_person"  # the overflow menu beside each person
ADMIN_NEW_TEAM = "admin_new_team"
ADMIN_EDIT_TEAM = "admin_edit_team"
ADMIN_RULES = "admin_rules"
ADMIN_CC = "admin_cc"
ADMIN_API_TOKENS = "admin_api_tokens"
ADMIN_CUSTOMER_CHANNELS = "admin_customer_channels"
ADMIN_PAGE = "admin_page"

# Modals (callback IDs) and their elements
ADD_AGENT_VIEW = "admin_add_agent_view"
TEAM_VIEW = "admin_team_view"
RULES_VIEW = "admin_rules_view"
CC_VIEW = "admin_cc_view"
RULE_FIELD = "admin_rule_field"
RULE_REMOVE = "admin_rule_remove"

PEOPLE_PAGE = 20
TEAMS_PAGE = 10
RULES_SHOWN = 60
OPTION_TEXT = 75
MAX_OPTIONS = 100

AUTO_LABEL = {"off": "Off", "round_robin": "Round-robin", "least_open": "Least open tickets"}
FIELD_LABEL = {"issue_type": "Issue type", "campaign": "Campaign", "intake_channel": "Intake channel", "mailbox": "Mailbox address", "account": "Account"}
ROLE_LABEL = {Role.ADMIN: "Admin", Role.AGENT: "Agent"}
CC_SETTING = "notify_cc"


def clip(text: str, limit: int = OPTION_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(clip(text)), "value": value}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "text": _plain(text), "value": value}
    if style:
        button["style"] = style
    return button


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _day(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b}"


def away_text(person: PersonRecord, now: datetime, tz: tzinfo) -> str | None:
    """"away", "away through Fri 5 Dec", "away until Fri 5 Dec 14:00", or None when available."""
    if person.away_until is not None and person.away_until > now:
        local = person.away_until.astimezone(tz)
        if (local.hour, local.minute) == (0, 0):
            return f"away through {_day(local - timedelta(days=1))}"
        return f"away until {_day(local)} {local:%H:%M}"
    return "away" if person.away else None


def channel_text(channel: str | None) -> str:
    return f"<#{channel}>" if channel else "the support channel"


# ---- the Home tab ---------------------------------------------------------------------------


def availability_blocks(person: PersonRecord, now: datetime, tz: tzinfo) -> list[dict[str, Any]]:
    away = away_text(person, now, tz)
    status = f"🌴 You are *{away}*: nothing new is assigned to you." if away else "🟢 You are *available* for new tickets."
    toggle = _button("I'm back", HOME_BACK, "back", "primary") if away else _button("I'm away", HOME_AWAY, "away")
    picker: dict[str, Any] = {"type": "datepicker", "action_id": HOME_AWAY_UNTIL, "placeholder": _plain("Away until")}
    if person.away_until is not None and person.away_until > now:
        picker["initial_date"] = (person.away_until.astimezone(tz) - timedelta(minutes=1)).date().isoformat()
    return [
        {"type": "section", "block_id": "home_availability", "text": {"type": "mrkdwn", "text": status}},
        {"type": "actions", "block_id": "home_availability_actions", "elements": [toggle, picker]},
    ]


def my_teams_blocks(teams: list[TeamRecord], user: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{"type": "header", "text": _plain("My teams")}]
    if not teams:
        return [*blocks, _context("You are in no team yet: an admin adds you to one.")]
    lines = [f"*{escape(t.name)}* · cards in {channel_text(t.triage_channel)} · {len(t.members)} "
             f"member{'s' if len(t.members) != 1 else ''}" + (" · you lead it" if t.lead_id == user else "") for t in teams[:40]]
    if len(teams) > 40:
        lines.append(f"…and {len(teams) - 40} more")
    return [*blocks, {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]}}]


def _pager(kind: str, page: int, pages: int) -> dict[str, Any] | None:
    if pages <= 1:
        return None
    elements = []
    if page > 0:
        elements.append(_button(f"◀ Previous {kind}", ADMIN_PAGE, f"{kind}:{page - 1}"))
    if page < pages - 1:
        elements.append(_button(f"Next {kind} ▶", ADMIN_PAGE, f"{kind}:{page + 1}"))
    return {"type": "actions", "block_id": f"admin_{kind}_pages", "elements": elements}


def _person_row(person: PersonRecord, now: datetime, tz: tzinfo) -> dict[str, Any]:
    away = away_text(person, now, tz)
    text = f"<@{person.user_id}> · {ROLE_LABEL.get(person.role, 'Agent')}" + (f" · 🌴 {away}" if away else "")
    toggle = (_option("Revoke admin", f"{Role.AGENT.value}:{person.user_id}") if person.role is Role.ADMIN
              else _option("Make admin", f"{Role.ADMIN.value}:{person.user_id}"))
    return {
        "type": "section",
        "block_id": f"admin_person_{person.user_id}",
        "text": {"type": "mrkdwn", "text": text},
        "accessory": {"type": "overflow", "action_id": ADMIN_PERSON,
                      "options": [toggle, _option("Remove from the desk", f"{Role.NONE.value}:{person.user_id}")]},
    }


def _team_row(team: TeamRecord) -> dict[str, Any]:
    members = ", ".join(f"<@{u}>" for u in team.members[:15]) or "no members"
    if len(team.members) > 15:
        members += f" and {len(team.members) - 15} more"
    lines = [
        f"*{escape(team.name)}*" + (" (default: catches what no rule routes)" if team.is_default else ""),
        f"Cards in {channel_text(team.triage_channel)} · lead: {f'<@{team.lead_id}>' if team.lead_id else 'none'}"
        f" · automatic assignment: {AUTO_LABEL.get(team.auto_assign, team.auto_assign)}",
        f"Members: {members}",
    ]
    if team.notify_emails:
        lines.append("Mails to: " + escape(", ".join(team.notify_emails)))
    return {
        "type": "section",
        "block_id": f"admin_team_{team.id}",
        "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]},
        "accessory": _button("Edit team", ADMIN_EDIT_TEAM, str(team.id)),
    }


def admin_blocks(
    people: list[PersonRecord],
    teams: list[TeamRecord],
    rules: int,
    cc: str,
    now: datetime,
    tz: tzinfo,
    people_page: int = 0,
    teams_page: int = 0,
) -> list[dict[str, Any]]:
    """The Admin section, for admins only: at most PEOPLE_PAGE people and TEAMS_PAGE teams
    a page, so the tab stays far under Block Kit's 100 blocks."""
    admins = sum(1 for p in people if p.role is Role.ADMIN)
    away = sum(1 for p in people if not p.available(now))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain("Admin")},
        {
            "type": "actions",
            "block_id": "admin_actions",
            "elements": [
                _button("Add agent", ADMIN_ADD_AGENT, "add", "primary"),
                _button("New team", ADMIN_NEW_TEAM, "new"),
                _button("Routing rules", ADMIN_RULES, "rules"),
                _button("Notification CC list", ADMIN_CC, "cc"),
                _button("API tokens", ADMIN_API_TOKENS, "tokens"),
                _button("Customer channels", ADMIN_CUSTOMER_CHANNELS, "customers"),
            ],
        },
        _context(f"*People*: {len(people)} agent{'s' if len(people) != 1 else ''}, {admins} of them admin"
                 f"{'s' if admins != 1 else ''}, {away} away"),
    ]
    pages = max(1, -(-len(people) // PEOPLE_PAGE))
    page = min(max(people_page, 0), pages - 1)
    blocks += [_person_row(p, now, tz) for p in people[page * PEOPLE_PAGE:(page + 1) * PEOPLE_PAGE]]
    if (pager := _pager("people", page, pages)) is not None:
        blocks.append(pager)
    blocks.append(_context(f"*Teams*: {len(teams)} · {rules} routing rule{'s' if rules != 1 else ''} (first match wins)"
                           f" · CC of notification mails: {escape(', '.join(a for a in cc.split(',') if a)) or 'nobody'}"))
    pages = max(1, -(-len(teams) // TEAMS_PAGE))
    page = min(max(teams_page, 0), pages - 1)
    blocks += [_team_row(t) for t in teams[page * TEAMS_PAGE:(page + 1) * TEAMS_PAGE]]
    if (pager := _pager("teams", page, pages)) is not None:
        blocks.append(pager)
    return blocks


# ---- modals ---------------------------------------------------------------------------------


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": _plain(label), "element": {**element, "action_id": VALUE}}
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = _plain(hint)
    return block


def _modal(callback_id: str, title: str, blocks: list[dict[str, Any]], submit: str | None, metadata: dict[str, Any],
           close: str = "Cancel") -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": _plain(title),
        "close": _plain(close),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }
    if submit:
        view["submit"] = _plain(submit)
    return view


def _team_options(teams: list[TeamRecord]) -> list[dict[str, Any]]:
    return [_option(t.name, str(t.id)) for t in teams[:MAX_OPTIONS]]


def add_agent_modal(teams: list[TeamRecord]) -> dict[str, Any]:
    roles = [_option("Agent: works tickets", Role.AGENT.value), _option("Admin: also manages people and teams", Role.ADMIN.value)]
    blocks = [
        _input("user", "Person", {"type": "users_select", "placeholder": _plain("Choose someone")}),
        _input("role", "Role", {"type": "static_select", "options": roles, "initial_option": roles[0]}),
    ]
    if teams:
        options = _team_options(teams)
        default = [o for t, o in zip(teams, options, strict=False) if t.is_default]
        element: dict[str, Any] = {"type": "multi_static_select", "options": options, "placeholder": _plain("Choose teams")}
        if default:
            element["initial_options"] = default
        blocks.append(_input("teams", "Teams", element, optional=True, hint="They see and work their teams' tickets."))
    return _modal(ADD_AGENT_VIEW, "Add agent", blocks, "Add", {})


def team_modal(team: TeamRecord | None, levels: TeamLevels | None = None) -> dict[str, Any]:
    """A new team (None) or one to edit, with its own service levels (``levels``); its
    version rides along, so a save that another admin's save overtook is refused instead of
    undoing theirs."""
    autos = [_option(AUTO_LABEL[a], a) for a in AUTO_ASSIGN]
    name: dict[str, Any] = {"type": "plain_text_input", "max_length": 80}
    channel: dict[str, Any] = {"type": "conversations_select", "placeholder": _plain("The support channel"),
                               "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    emails: dict[str, Any] = {"type": "plain_text_input", "multiline": True, "placeholder": _plain("billing@example.com, lead@example.com")}
    lead: dict[str, Any] = {"type": "users_select", "placeholder": _plain("Nobody")}
    members: dict[str, Any] = {"type": "multi_users_select", "placeholder": _plain("Choose agents")}
    auto: dict[str, Any] = {"type": "static_select", "options": autos, "initial_option": autos[0]}
    if team is not None:
        name["initial_value"] = team.name
        if team.triage_channel:
            channel["initial_conversation"] = team.triage_channel
        if team.notify_emails:
            emails["initial_value"] = ", ".join(team.notify_emails)
        if team.lead_id:
            lead["initial_user"] = team.lead_id
        if team.members:
            members["initial_users"] = list(team.members)
        auto["initial_option"] = next((o for o in autos if o["value"] == team.auto_assign), autos[0])
    blocks = [
        _input("name", "Name", name),
        _input("channel", "Triage channel", channel, optional=True,
               hint="Where its cards are posted (empty: the support channel). Invite @Casedesk there first."),
        _input("emails", "Default notify emails", emails, optional=True,
               hint="Told of each new and resolved ticket: addresses separated by commas."),
        _input("lead", "Lead", lead, optional=True),
        _input("members", "Members", members, optional=True, hint="Agents only: add someone with Add agent first."),
        _input("auto_assign", "Automatic assignment", auto,
               hint="New tickets go to an available member: in turn, or to whoever has the fewest open."),
        *service_level_inputs(levels or TeamLevels()),
    ]
    metadata = {"team_id": team.id if team else None, "version": team.version if team else 0}
    return _modal(TEAM_VIEW, "Edit team" if team else "New team", blocks, "Save", metadata)


def service_level_inputs(levels: TeamLevels) -> list[dict[str, Any]]:
    """The team's own business hours and SLA targets: each left empty keeps the desk's."""
    written = {TIMEZONE: levels.timezone, DAYS: levels.days, HOURS: levels.hours, HOLIDAYS: levels.holidays,
               **{block: levels.policy(p) for p, block in POLICY_INPUTS.items()}}
    examples = {TIMEZONE: ("Europe/Berlin", "An IANA time zone."), DAYS: ("mon-fri", "Such as mon-fri or sun-thu."),
                HOURS: ("09:00-17:00", "Such as 09:00-17:30, or 09:00-12:00,13:00-17:00."),
                HOLIDAYS: ("2026-12-25, 2027-01-01", "Dates, separated by commas.")}
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _plain("Service levels")},
        _context("This team's own business hours and SLA targets; each left empty keeps the desk's. "
                 "Its tickets' due times follow them from filing, a move to the team or a new priority."),
    ]
    for block, label in LABELS.items():
        placeholder, hint = examples.get(block, ("1h/8h", "First response / resolution, in business hours: such as 1h/8h or 30m/4h."))
        element: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_LENGTHS.get(block, 40),
                                   "placeholder": _plain(placeholder), "multiline": block == HOLIDAYS}
        if written[block]:
            element["initial_value"] = written[block]
        blocks.append(_input(block, label, element, optional=True, hint=hint))
    return blocks


def rule_value_label(field: str) -> str:
    return FIELD_LABEL.get(field, field)


def rule_text(rule: RuleRecord, names: dict[int, str]) -> str:
    value = f"<#{rule.value}>" if rule.field == "intake_channel" else f"*{escape(rule.value)}*"
    return f"{rule.position}. {rule_value_label(rule.field)} {value} → {escape(names.get(rule.team_id, '(a removed team)'))}"


def rules_modal(
    rules: list[RuleRecord],
    teams: list[TeamRecord],
    field: str,
    issue_types: tuple[str, ...],
    campaigns: tuple[str, ...],
    nonce: int = 0,
    note: str | None = None,
) -> dict[str, Any]:
    """The rules in order, each removable, and a form to add one. The inputs' block IDs carry
    ``nonce``, so the form comes back empty after a rule is added."""
    names = {t.id: t.name for t in teams}
    blocks: list[dict[str, Any]] = [_context("A ticket goes to the team of the first rule it matches; the default team "
                                             "catches the rest.")]
    for rule in rules[:RULES_SHOWN]:
        blocks.append({"type": "section", "block_id": f"rule_{rule.id}", "text": {"type": "mrkdwn", "text": rule_text(rule, names)},
                       "accessory": _button("Remove", RULE_REMOVE, str(rule.id))})
    if len(rules) > RULES_SHOWN:
        blocks.append(_context(f"…and {len(rules) - RULES_SHOWN} more, checked after these."))
    if not rules:
        blocks.append(_context("No rules yet: every ticket goes to the default team."))
    if note:
        blocks.append(_context(f"⚠️ {note}"))
    blocks.append({"type": "divider"})
    fields = [_option(f"Match on: {FIELD_LABEL[f]}", f) for f in RULE_FIELDS]
    blocks.append({"type": "actions", "block_id": "rule_field", "elements": [
        {"type": "static_select", "action_id": RULE_FIELD, "options": fields,
         "initial_option": next(o for o in fields if o["value"] == field)}]})
    label = rule_value_label(field)
    if field in ("issue_type", "campaign"):
        choices = issue_types if field == "issue_type" else campaigns
        value: dict[str, Any] = {"type": "static_select", "options": [_option(c, str(i)) for i, c in enumerate(choices[:MAX_OPTIONS])]}
    elif field == "intake_channel":
        value = {"type": "conversations_select", "filter": {"include": ["public", "private"], "exclude_bot_users": True}}
    elif field == "account":
        value = {"type": "plain_text_input", "placeholder": _plain("Acme Corp, or its Slack team ID"), "max_length": 200}
    else:
        value = {"type": "plain_text_input", "placeholder": _plain("help@example.com"), "max_length": 320}
    blocks.append(_input(f"rule_value_{nonce}", label, value))
    if teams:
        blocks.append(_input(f"rule_team_{nonce}", "Team", {"type": "static_select", "options": _team_options(teams)}))
    return _modal(RULES_VIEW, "Routing rules", blocks, "Add rule", {"field": field, "nonce": nonce}, close="Done")


def cc_modal(value: str, version: int) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": True, "placeholder": _plain("ops@example.com, boss@example.com")}
    if value:
        element["initial_value"] = ", ".join(a for a in value.split(",") if a)
    blocks = [_input("cc", "CC addresses", element, optional=True,
                     hint="Copied on every notification mail (new and resolved tickets): addresses separated by commas.")]
    return _modal(CC_VIEW, "Notification CC list", blocks, "Save", {"version": version})
