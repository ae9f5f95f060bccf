"""The Timeline modal: a case's history, oldest first, a page at a time."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bot.services.records import EventRecord, MessageRecord, format_number
from bot.services.status import Status
from bot.services.timeline import TimelineEntry, TimelinePage
from bot.views.text import escape, escaped_within, mention, when

TIMELINE_OLDER = "timeline_older"
TIMELINE_NEWER = "timeline_newer"
TIMELINE_CALLBACK = "ticket_timeline"
ENTRY_LIMIT = 2800  # a section holds 3000 characters; leave room for the heading

ROLE_LABEL = {"customer": "customer", "agent": "agent", "note": "automatic mail, kept as a note", "bot": "bot"}


def message_line(msg: MessageRecord, tz: ZoneInfo) -> str:
    icon = "📧" if msg.via == "email" else "💬"
    who = mention(msg.author_id)
    if msg.author_name and msg.via == "email":
        who = f"{escape(msg.author_name)} ({who})"
    flags = (" · _edited_" if msg.edited_at else "") + (" · _deleted in Slack_" if msg.deleted_at else "")
    head = f"{icon} *{who}* · {ROLE_LABEL.get(msg.role, msg.role)} · {when(msg.created_at, tz)}{flags}"
    body = escaped_within(msg.body or "(no text)", ENTRY_LIMIT - len(head) - 40)
    quoted = "\n".join(f"> {line}" for line in body.splitlines() or [""])
    return f"{head}\n{quoted}"


# What a mailed notice was, by its kind.
MAILED = {"notice": "Notification", "closing": "The auto-close warning", "survey": "The satisfaction survey"}


# Links and merges (bot/services/merges.py): linked's from_value is the kind, to_value the other ticket.
LINK_EVENTS = {
    "linked": "🔗 {who} linked it ({old}) with {new}",
    "merged": "🔁 {who} merged it into {new}",
    "merged_in": "🔁 {who} merged {old} into it",
    "unmerged": "↩️ {who} unmerged it from {new}",
    "unmerged_out": "↩️ {who} unmerged {old} from it",
    "requester_told": "📣 Its requester was told the conversation continues in {new}",
}


def event_line(ev: EventRecord, number: str, tz: ZoneInfo) -> str:
    who = mention(ev.actor_id)
    at = when(ev.created_at, tz)
    if ev.kind == "created":
        text = f"🎫 {number} opened by {who}"
    elif ev.kind == "assigned":
        text = f"👤 {who} took the case"
    elif ev.kind == "reassigned":
        text = f"👥 {who} assigned it to {mention(ev.to_value)}"
    elif ev.kind == "assignees":
        others = ", ".join(mention(u) for u in (ev.to_value or "").split(",") if u) or "nobody"
        text = f"👥 {who} set who is assigned beside the owner: {others}"
    elif ev.kind == "auto_assigned":
        text = f"🎯 Assigned to {mention(ev.to_value)} automatically ({escape(ev.note or '')})"
    elif ev.kind == "moved":
        text = f"🔀 {who} moved it from {escape(ev.from_value or '')} to {escape(ev.to_value or '')}"
    elif ev.kind in ("handed_back", "assignee_left"):
        text = f"↩️ {mention(ev.from_value)} left {escape(ev.note or 'the team')}; owner now {mention(ev.to_value)}"
    elif ev.kind == "status":
        label = Status(ev.to_value).label if ev.to_value in {s.value for s in Status} else ev.to_value
        text = f"🔀 {who} set the status to {label}"
    elif ev.kind == "flagged":
        text = f"⚠️ Escalation keyword “{escape(ev.to_value or '')}” from {who}"
    elif ev.kind == "review":
        text = f"🔎 A mail from {who} could not be read cleanly; kept for review"
    elif ev.kind == "unverified":
        text = f"🛡️ A mail from {who} could not be authenticated; treated as a customer's"
    elif ev.kind == "escalated":
        text = f"🚨 Escalated: {escape(ev.to_value or '')}"
    elif ev.kind == "first_response":
        text = f"⏱️ First response by {who}"
    elif ev.kind == "commented":
        text = f"📝 {who} commented"
    elif ev.kind == "mailed":
        what = MAILED.get(ev.from_value or "", "The requester's notification")
        cc = f" ({escape(ev.note)})" if ev.note else ""
        text = f"📧 {what} mailed to {escape(ev.to_value or '')}{cc}"
    elif ev.kind == "autoclose_warned":
        text = f"⏳ The requester was told it closes automatically unless they reply ({escape(ev.note or '')})"
    elif ev.kind in ("rated", "rating_comment"):
        verb = "rated it" if ev.kind == "rated" else "commented on their rating of"
        text = f"⭐ {who} {verb} {escape(ev.to_value or '')}/5"
    elif ev.kind == "priority":
        text = f"🔺 Priority {escape(ev.from_value or '')} → {escape(ev.to_value or '')}"
    elif ev.kind in LINK_EVENTS:
        text = LINK_EVENTS[ev.kind].format(who=who, old=escape(ev.from_value or ""), new=escape(ev.to_value or ""))
    else:
        text = f"{escape(ev.kind)} by {who}"
    note = f"\n> {escaped_within(ev.note, 1500)}" if ev.note and ev.kind not in ("flagged", "mailed", "autoclose_warned") else ""
    return f"{text} · {at}{note}"


def _entry(entry: TimelineEntry, number: str, tz: ZoneInfo) -> dict[str, Any]:
    text = message_line(entry.message, tz) if entry.message else event_line(entry.event, number, tz)  # type: ignore[arg-type]
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def timeline_modal(page: TimelinePage, tz: ZoneInfo) -> dict[str, Any]:
    number = format_number(page.ticket_id)
    first, last = page.offset + 1, page.offset + len(page.entries)
    span = f"{first}–{last} of {page.total}" if page.total else "nothing yet"
    blocks: list[dict[str, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"*{number}*, oldest first · {span}"}]}
    ]
    for entry in page.entries:
        blocks.append(_entry(entry, number, tz))
    buttons = []
    if page.has_older:
        buttons.append(_page_button(TIMELINE_OLDER, "◀ Earlier", page.offset - page.page_size))
    if page.has_newer:
        buttons.append(_page_button(TIMELINE_NEWER, "Later ▶", page.offset + page.page_size))
    if buttons:
        blocks.append({"type": "actions", "block_id": "timeline_pages", "elements": buttons})
    return {
        "type": "modal",
        "callback_id": TIMELINE_CALLBACK,
        "private_metadata": str(page.ticket_id),
        "title": {"type": "plain_text", "text": f"Timeline · {number}"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": blocks,
    }


def _page_button(action_id: str, label: str, offset: int) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": label}, "value": str(max(0, offset))}
