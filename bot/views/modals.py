"""Modals: filing a ticket, reassigning it, moving it to another team, resolving it,
replying to its reporter by email or in Slack."""

from __future__ import annotations

import json
from typing import Any

from bot.services.status import Priority
from bot.views.text import escape, escaped_within, plain_within
from bot.views.ticket_card import PRIORITY_ICON

NEW_TICKET = "new_ticket"
REASSIGN_TICKET = "reassign_ticket"
RESOLVE_TICKET = "resolve_ticket"
MOVE_TICKET = "move_ticket"
EMAIL_REPLY_TICKET = "email_reply_ticket"
REPLY_TICKET = "reply_ticket"
MACRO_PICK = "reply_macro_pick"  # the Reply modal's canned-reply menu
MACROS_VIEW = "macros"  # /ticket-macros: the canned replies, managed
MACRO_DELETE = "macro_delete"
MACROS_SHOWN = 40  # sections in the list; a modal holds 100 blocks
MESSAGE_TICKET = "message_ticket"  # the new-ticket form opened by the "Create ticket" shortcut
EMAIL_REPLY_LIMIT = 3000  # a plain_text_input's max_length
VALUE = "value"  # the action_id of every input element


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": _plain(plain_within(text, 75)), "value": value}


def _select(block_id: str, label: str, options: list[dict[str, Any]], initial: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "static_select", "action_id": VALUE, "options": options}
    if initial:
        element["initial_option"] = initial
    return {"type": "input", "block_id": block_id, "label": _plain(label), "element": element}


def new_ticket_modal(campaigns: tuple[str, ...], issue_types: tuple[str, ...], channel_id: str = "") -> dict[str, Any]:
    priorities = [_option(f"{PRIORITY_ICON[p]} {p.label}", p.value) for p in Priority]
    return {
        "type": "modal",
        "callback_id": NEW_TICKET,
        "title": _plain("New ticket"),
        "submit": _plain("File ticket"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            _select("campaign", "Campaign", [_option(c, c) for c in campaigns]),
            # Picking a type redraws the form with its extra fields (bot/handlers/forms.py).
            {**_select("issue_type", "Issue type", [_option(t, t) for t in issue_types]), "dispatch_action": True},
            _select("priority", "Priority", priorities, initial=priorities[1]),
            {
                "type": "input",
                "block_id": "details",
                "label": _plain("Details"),
                "hint": _plain("What happened, what you expected, and how to see it again."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "multiline": True,
                    "max_length": 3000,
                },
            },
            {
                "type": "input",
                "block_id": "screenshot",
                "optional": True,
                "label": _plain("Screenshot"),
                "element": {
                    "type": "file_input",
                    "action_id": VALUE,
                    "max_files": 1,
                    "filetypes": ["png", "jpg", "jpeg", "gif", "webp", "pdf"],
                },
            },
            {
                "type": "input",
                "block_id": "notify_emails",
                "optional": True,
                "label": _plain("Notify (emails)"),
                "hint": _plain("Addresses told when this ticket is filed and resolved, separated by commas."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "max_length": 2000,
                    "placeholder": _plain("name@example.com, other@example.com"),
                },
            },
        ],
    }


def _ticket_metadata(ticket_id: int, channel: str, ts: str) -> str:
    return json.dumps({"ticket_id": ticket_id, "channel": channel, "ts": ts})


def reassign_modal(ticket_id: int, number: str, channel: str, ts: str, others: tuple[str, ...] = ()) -> dict[str, Any]:
    """The owner (one person, required) and whoever else works on it (optional, as assigned now)."""
    also: dict[str, Any] = {"type": "multi_users_select", "action_id": VALUE, "max_selected_items": 10}
    if others:
        also["initial_users"] = list(others)
    return {
        "type": "modal",
        "callback_id": REASSIGN_TICKET,
        "title": _plain(f"Reassign {number}"),
        "submit": _plain("Reassign"),
        "close": _plain("Cancel"),
        "private_metadata": _ticket_metadata(ticket_id, channel, ts),
        "blocks": [
            {
                "type": "input",
                "block_id": "assignee",
                "label": _plain("New assignee"),
                "hint": _plain("The owner: the ticket is theirs to see through."),
                "element": {"type": "users_select", "action_id": VALUE},
            },
            {
                "type": "input",
                "block_id": "others",
                "optional": True,
                "label": _plain("Also assigned"),
                "hint": _plain("Others who work on it with the owner; each newly added is told by DM."),
                "element": also,
            },
            {
                "type": "input",
                "block_id": "comment",
                "optional": True,
                "label": _plain("Comment"),
                "element": {"type": "plain_text_input", "action_id": VALUE, "multiline": True, "max_length": 2000},
            },
        ],
    }


def move_modal(ticket_id: int, number: str, channel: str, ts: str, teams: list[tuple[int, str]], here: str) -> dict[str, Any]:
    """Choose the team whose queue the ticket goes to (``teams``: the others, by id and name)."""
    return {
        "type": "modal",
        "callback_id": MOVE_TICKET,
        "title": _plain(plain_within(f"Move {number}", 24)),
        "submit": _plain("Move"),
        "close": _plain("Cancel"),
        "private_metadata": _ticket_metadata(ticket_id, channel, ts),
        "blocks": [
            {"type": "context", "elements": [{"type": "plain_text", "text": plain_within(f"Now in: {here}", 2000)}]},
            _select("team", "Team", [_option(name, str(team_id)) for team_id, name in teams[:100]]),
        ],
    }


def resolve_modal(ticket_id: int, number: str, channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": RESOLVE_TICKET,
        "title": _plain(f"Resolve {number}"),
        "submit": _plain("Resolve"),
        "close": _plain("Cancel"),
        "private_metadata": _ticket_metadata(ticket_id, channel, ts),
        "blocks": [
            {
                "type": "input",
                "block_id": "note",
                "optional": True,
                "label": _plain("Resolution note"),
                "hint": _plain("The reporter sees this."),
                "element": {"type": "plain_text_input", "action_id": VALUE, "multiline": True, "max_length": 2000},
            }
        ],
    }


def reply_modal(
    ticket_id: int, title: str, recipient: str, channel: str, ts: str, *,
    macros: list[tuple[int, str]] | None = None, body: str = "", version: int = 0,
    then: str | None = None,
) -> dict[str, Any]:
    """A public reply to the requester (``recipient``: who and where, in mrkdwn: their thread,
    a DM, or by email); notes go in the card's thread. ``macros`` (id, name) to pick from: a pick redraws it with ``body`` in a
    body block of a new ``version`` (so the text replaces what was typed) and ``then`` the
    status the macro sets."""
    meta = {"ticket_id": ticket_id, "channel": channel, "ts": ts}
    body_input: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE, "multiline": True, "max_length": EMAIL_REPLY_LIMIT}
    if body:
        body_input["initial_value"] = body[:EMAIL_REPLY_LIMIT]
    statuses = [_option("Waiting on customer", "waiting"), _option("Resolved", "resolved"), _option("Closed", "closed")]
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{recipient} The requester sees this."}]},
    ]
    if macros:
        blocks.append({
            "type": "actions",
            "block_id": "macro",
            "elements": [{
                "type": "static_select",
                "action_id": MACRO_PICK,
                "placeholder": _plain("Use a canned reply"),
                "options": [_option(name, str(macro_id)) for macro_id, name in macros[:100]],
            }],
        })
    blocks += [
        {
            "type": "input",
            "block_id": f"body{version}" if version else "body",
            "label": _plain("Your reply"),
            "hint": _plain("Sent to the requester and marked as a public reply in the card's thread. "
                           "{requester}, {number}, {agent} and {title} are filled in."),
            "element": body_input,
        },
        _select("then", "Then set the case to", statuses, initial=next((o for o in statuses if o["value"] == then), None)),
        {
            "type": "input",
            "block_id": "save_as",
            "optional": True,
            "label": _plain("Save as a macro"),
            "hint": _plain("A name here also saves this reply (and the status above) as a canned reply."),
            "element": {"type": "plain_text_input", "action_id": VALUE, "max_length": 60},
        },
    ]
    blocks[-2]["optional"] = True
    return {
        "type": "modal",
        "callback_id": REPLY_TICKET,
        "title": _plain(plain_within(title, 24)),
        "submit": _plain("Send"),
        "close": _plain("Cancel"),
        "private_metadata": json.dumps(meta),
        "blocks": blocks,
    }


def ticket_from_message_modal(
    campaigns: tuple[str, ...], issue_types: tuple[str, ...], *, origin: dict[str, Any], author: str, details: str
) -> dict[str, Any]:
    """The new-ticket form, filled in from a message: its text as the details, its author as
    the reporter; ``origin`` (where the message is) rides in the metadata to the submission."""
    view = new_ticket_modal(campaigns, issue_types)
    view["callback_id"] = MESSAGE_TICKET
    view["private_metadata"] = json.dumps(origin)
    blocks = view["blocks"]
    for block in blocks:
        if block["block_id"] == "details":
            block["element"]["initial_value"] = details[:3000]
    where = f"<#{origin['channel']}>"
    about = f"From <@{author}>'s message in {where}; they are the reporter, and replies in its thread join the case."
    view["blocks"] = [{"type": "context", "elements": [{"type": "mrkdwn", "text": about}]}, *blocks]
    return view


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (what a shortcut could not do)."""
    return {
        "type": "modal",
        "title": _plain(plain_within(title, 24)),
        "close": _plain("Close"),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def macros_modal(macros: list[tuple[int, str, str, str | None]], note: str = "") -> dict[str, Any]:
    """The canned replies, each with a Delete button, and a form to add one.
    ``macros``: (id, name, text, status label or None)."""
    blocks: list[dict[str, Any]] = []
    if note:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]})
    for macro_id, name, text, then in macros[:MACROS_SHOWN]:
        after = f"\n_then {then}_" if then else ""
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{escape(name)}*\n{escaped_within(text, 400)}{after}"},
            "accessory": {
                "type": "button", "action_id": MACRO_DELETE, "value": str(macro_id), "text": _plain("Delete"), "style": "danger",
            },
        })
    if not macros:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "No canned replies yet."}})
    statuses = [_option("Waiting on customer", "waiting"), _option("Resolved", "resolved"), _option("Closed", "closed")]
    blocks += [
        {"type": "divider"},
        {
            "type": "input", "block_id": "save_as", "optional": True, "label": _plain("New macro's name"),
            "element": {"type": "plain_text_input", "action_id": VALUE, "max_length": 60},
        },
        {
            "type": "input", "block_id": "body", "optional": True, "label": _plain("Its text"),
            "hint": _plain("{requester}, {number}, {agent} and {title} are filled in when it is used."),
            "element": {"type": "plain_text_input", "action_id": VALUE, "multiline": True, "max_length": EMAIL_REPLY_LIMIT},
        },
        {**_select("then", "Then set the case to", statuses), "optional": True},
    ]
    return {
        "type": "modal",
        "callback_id": MACROS_VIEW,
        "title": _plain("Canned replies"),
        "submit": _plain("Save"),
        "close": _plain("Close"),
        "blocks": blocks,
    }
