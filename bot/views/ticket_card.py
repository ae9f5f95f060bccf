"""The ticket card posted in the support channel, with its action buttons."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.services.business_hours import BusinessCalendar
from bot.services.records import TicketRecord
from bot.services.sla import Target, due_line
from bot.services.status import Priority, Status
from bot.views.forms import card_lines
from bot.views.text import escape, escaped_within, mention, when

PRIORITY_ICON = {Priority.HIGH: "🔴", Priority.MEDIUM: "🟡", Priority.LOW: "🔵"}
STATUS_BADGE = {
    Status.OPEN: "🆕 Open",
    Status.IN_PROGRESS: "🛠️ In Progress",
    Status.WAITING: "⏸️ Waiting on the customer",
    Status.RESOLVED: "✅ Resolved",
    Status.CLOSED: "🔒 Closed",
}

# action_id → button label; handlers register on the same IDs.
ASSIGN_SELF = "ticket_assign_self"
REASSIGN = "ticket_reassign"
RESOLVE = "ticket_resolve"
CLOSE = "ticket_close"
REOPEN = "ticket_reopen"
TIMELINE = "ticket_timeline"
EMAIL_REPLY = "ticket_email_reply"
REPLY = "ticket_reply"  # a public reply in the requester's thread or DM (EMAIL_REPLY: by mail)
WAIT = "ticket_waiting"
RESUME = "ticket_resume"
MORE = "ticket_more"  # the card's overflow menu; its options' values say what and which ticket
MOVE = "move"
LINK = "link"  # the overflow's Link…: related, parent/child, duplicate of (merge)
UNMERGE = "unmerge"  # a merged duplicate's overflow: an admin undoes the merge
BUTTON_LABELS = {
    ASSIGN_SELF: "Assign to Me",
    REASSIGN: "Reassign",
    RESOLVE: "Resolve",
    CLOSE: "Close",
    REOPEN: "Reopen",
    WAIT: "Waiting on customer",
    RESUME: "Resume",
    TIMELINE: "Timeline",
    EMAIL_REPLY: "Reply by email",
    REPLY: "Reply to requester",
}
# Said on every card: the thread under it is the agents' room.
INTERNAL_THREAD = "🔒 The thread is internal: start with `reply:` (or use Reply to requester) to answer them"


DETAILS_LIMIT = 3000  # a section's text


def buttons_for(status: Status) -> list[str]:
    """The buttons that change the ticket, for its status."""
    if status is Status.OPEN:
        return [ASSIGN_SELF, REASSIGN, RESOLVE, CLOSE]
    if status is Status.IN_PROGRESS:
        return [ASSIGN_SELF, REASSIGN, WAIT, RESOLVE, CLOSE]
    if status is Status.WAITING:
        return [RESUME, REASSIGN, RESOLVE, CLOSE]
    if status is Status.RESOLVED:
        return [CLOSE, REOPEN]
    return [REOPEN]


def origin_line(ticket: TicketRecord) -> str | None:
    if ticket.by_email:
        name = f"{escape(ticket.reporter_name)} " if ticket.reporter_name else ""
        return f"📧 By email from {name}&lt;{escape(ticket.reporter_id)}&gt;"
    if ticket.origin_channel and ticket.origin_link:
        url = ticket.origin_link.replace("|", "%7C").replace(">", "%3E")
        return f"💬 From <{url}|a message> in <#{ticket.origin_channel}>"
    if ticket.origin_channel:
        return f"💬 From a message in <#{ticket.origin_channel}>"
    return None


def account_line(ticket: TicketRecord) -> str | None:
    """The customer's organisation (Slack Connect): its name once known, else its team id."""
    if not ticket.account_id:
        return None
    return f"🏢 Account: *{escaped_within(ticket.account_name or ticket.account_id, 200)}*"


def _button(action_id: str, ticket: TicketRecord) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": BUTTON_LABELS[action_id]},
        "value": str(ticket.id),
    }
    if action_id == RESOLVE:
        button["style"] = "primary"
    if action_id == CLOSE:
        button["style"] = "danger"
    return button


def card_summary(ticket: TicketRecord) -> str:
    """The notification text (``text``) of the card: shown in push notifications."""
    return f"{PRIORITY_ICON[ticket.priority]} {ticket.number} · {ticket.status.label} · {escape(ticket.issue_type)}"


def sla_lines(ticket: TicketRecord, calendar: BusinessCalendar, now: datetime) -> list[str]:
    """The targets not met yet, as of ``now``: ``⏱ First response due in 2 h 10 m``,
    ``⏱ Resolution breached 35 m ago``, ``⏱ Resolution paused (waiting on the customer), …``."""
    lines = []
    if ticket.first_response_due_at and ticket.first_response_at is None and ticket.status not in (Status.RESOLVED, Status.CLOSED):
        lines.append(due_line(Target.FIRST_RESPONSE, ticket.first_response_due_at, calendar, now))
    if ticket.resolution_due_at and ticket.status not in (Status.RESOLVED, Status.CLOSED):
        paused = ticket.paused_at if ticket.status is Status.WAITING else None
        lines.append(due_line(Target.RESOLUTION, ticket.resolution_due_at, calendar, now, paused))
    return [f"⏱ {line}" for line in lines]


def ticket_card(
    ticket: TicketRecord, tz: ZoneInfo, *, now: datetime | None = None, calendar: BusinessCalendar | None = None
) -> list[dict[str, Any]]:
    """The card as of ``now`` (its SLA lines need the time it is drawn and the business
    calendar; without them it has none)."""
    fields = [
        f"*Status*\n{STATUS_BADGE[ticket.status]}" + (" · 🚨 Escalated" if ticket.escalated_reasons else ""),
        f"*Priority*\n{PRIORITY_ICON[ticket.priority]} {ticket.priority.label}",
        f"*Campaign*\n{escape(ticket.campaign)}",
        f"*Issue type*\n{escape(ticket.issue_type)}",
        f"*Reporter*\n{mention(ticket.reporter_id)}",
        assignee_field(ticket),
    ]
    if ticket.team_name:
        fields.append(f"*Team*\n{escape(ticket.team_name)}")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"{PRIORITY_ICON[ticket.priority]} {ticket.number}"},
        },
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": _details(ticket)}},
    ]
    if ticket.fields:  # its issue type's extra fields, with the labels they were filed with
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": card_lines(ticket.fields)[:DETAILS_LIMIT]}})
    if ticket.screenshot_url:
        name = escape(ticket.screenshot_name or "screenshot")
        url = ticket.screenshot_url.replace("|", "%7C").replace(">", "%3E")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"📎 Screenshot: <{url}|{name}>"}})
    if ticket.links:  # said as stored: numbers and fixed words only
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(ticket.links)[:3000]}]})
    due = sla_lines(ticket, calendar, now) if now is not None and calendar is not None else []
    if due:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(due)}})
    if ticket.status is Status.RESOLVED and ticket.resolved_by:
        note = f": {escaped_within(ticket.resolution_note, 2500)}" if ticket.resolution_note else ""
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"✅ Resolved by {mention(ticket.resolved_by)}{note}"}})
    blocks.append(
        {
            "type": "context",
            "elements": [
                *([{"type": "mrkdwn", "text": line}] if (line := origin_line(ticket)) else []),
                *([{"type": "mrkdwn", "text": account}] if (account := account_line(ticket)) else []),
                {"type": "mrkdwn", "text": f"Created {when(ticket.created_at, tz)}"},
                {"type": "mrkdwn", "text": f"Updated {when(ticket.updated_at, tz)}"},
                {"type": "mrkdwn", "text": INTERNAL_THREAD},
            ],
        }
    )
    blocks.append(
        {
            "type": "actions",
            "block_id": f"ticket_actions:{ticket.id}",
            "elements": [
                _button(a, ticket)
                for a in [*buttons_for(ticket.status), EMAIL_REPLY if ticket.answered_by_email else REPLY, TIMELINE]
            ]
            + [more_menu(ticket)],
        }
    )
    return blocks


def assignee_field(ticket: TicketRecord) -> str:
    """The owner, and whoever else is assigned beside them."""
    others = [u for u in ticket.assignees if u != ticket.assignee_id]
    if not others:
        return f"*Assignee*\n{mention(ticket.assignee_id)}"
    return f"*Assignees*\n{mention(ticket.assignee_id)} (owner), " + ", ".join(mention(u) for u in others)


def more_menu(ticket: TicketRecord) -> dict[str, Any]:
    return {
        "type": "overflow",
        "action_id": MORE,
        "options": [
            {"text": {"type": "plain_text", "text": "Move to team…"}, "value": f"{MOVE}:{ticket.id}"},
            {"text": {"type": "plain_text", "text": "Link…"}, "value": f"{LINK}:{ticket.id}"},
            *(
                [{"text": {"type": "plain_text", "text": "Unmerge"}, "value": f"{UNMERGE}:{ticket.id}"}]
                if ticket.merged_into
                else []
            ),
        ],
    }


def _details(ticket: TicketRecord) -> str:
    if not ticket.title or ticket.details.strip().startswith(ticket.title.rstrip("…")):
        return escaped_within(ticket.details, DETAILS_LIMIT)
    title = f"*{escaped_within(ticket.title, 400)}*\n"
    return title + escaped_within(ticket.details, DETAILS_LIMIT - len(title))
