"""Short messages: thread lines, DMs, refusals and confirmations."""

from __future__ import annotations

from typing import Any

from bot.services.records import Change, MessageRecord, TicketRecord
from bot.services.status import Status
from bot.views.text import escape, escaped_within, is_slack_user, mention
from bot.views.ticket_card import PRIORITY_ICON


def thread_line(change: Change) -> str:
    """One line in the card's thread saying who did what."""
    ev, t = change.event, change.ticket
    who = mention(ev.actor_id)
    if ev.kind == "assigned":
        line = f"👤 {who} assigned {t.number} to themselves."
    elif ev.kind == "reassigned":
        line = f"👥 {who} reassigned {t.number} to {mention(ev.to_value)}."
    elif ev.kind == "assignees":
        others = _people(ev.to_value)
        line = (
            f"👥 {who} assigned {others} beside the owner of {t.number}."
            if others
            else f"👥 {who} left only the owner assigned to {t.number}."
        )
    elif ev.kind == "auto_assigned":
        how = f" ({escape(ev.note)})" if ev.note else ""
        return f"🎯 {t.number} was assigned to {mention(ev.to_value)} automatically{how}."
    elif ev.kind == "moved":
        line = f"🔀 {t.number} moved from *{escape(ev.from_value or '')}* to *{escape(ev.to_value or '')}* by {who}."
    elif ev.kind == "handed_back":
        team = escape(ev.note or "the team")
        after = f"{mention(ev.to_value)} owns it now" if ev.to_value else "it is back in the team's queue, Open and unowned"
        return f"↩️ {mention(ev.from_value)} left {team}, so {t.number} is no longer theirs: {after}."
    elif ev.kind == "assignee_left":
        return f"↩️ {mention(ev.from_value)} left {escape(ev.note or 'the team')} and is no longer assigned to {t.number}."
    elif ev.kind == "status" and ev.to_value == Status.WAITING.value:
        return f"⏸️ {who} set {t.number} to Waiting on the customer: the resolution clock is paused."
    elif ev.kind == "status" and ev.from_value == Status.WAITING.value and ev.to_value == Status.IN_PROGRESS.value:
        return f"▶️ {who} resumed {t.number}: the resolution clock runs again."
    elif ev.to_value == Status.RESOLVED.value:
        line = f"✅ {who} resolved {t.number}."
    elif ev.to_value == Status.CLOSED.value:
        line = f"🔒 {who} closed {t.number}."
    elif ev.to_value == Status.OPEN.value:
        line = f"🔁 {who} reopened {t.number}."
    else:
        line = f"{who} changed {t.number}."
    if ev.note:
        line += f"\n> {escaped_within(ev.note, 2000)}"
    return line


def reporter_update(change: Change, permalink: str | None) -> str | None:
    """What the reporter is told, or None when the change does not concern them."""
    t = change.ticket
    link = f" <{permalink}|View the ticket>." if permalink else ""
    if t.status is Status.RESOLVED:
        note = f"\n> {escaped_within(t.resolution_note, 2000)}" if t.resolution_note else ""
        return f"✅ Your ticket {t.number} was resolved by {mention(change.event.actor_id)}.{link}{note}"
    if t.status is Status.CLOSED:
        return f"🔒 Your ticket {t.number} was closed by {mention(change.event.actor_id)}.{link}"
    return None


def _people(csv: str | None) -> str:
    return ", ".join(mention(u) for u in (csv or "").split(",") if u)


def assignee_notice(change: Change, permalink: str | None) -> str:
    t = change.ticket
    link = f" <{permalink}|Open the ticket>." if permalink else ""
    ev = change.event
    if ev.kind == "auto_assigned":
        how = f" ({escape(ev.note)})" if ev.note else ""
        return f"🎯 {PRIORITY_ICON[t.priority]} {t.number} was assigned to you automatically{how}.{link}"
    if ev.kind == "handed_back":
        return f"↩️ {PRIORITY_ICON[t.priority]} {t.number} is yours now: {mention(ev.from_value)} left {escape(ev.note or 'the team')}.{link}"
    note = f"\n> {escaped_within(change.event.note, 2000)}" if change.event.note else ""
    return (
        f"{mention(change.event.actor_id)} assigned {PRIORITY_ICON[t.priority]} {t.number} to you.{link}{note}"
    )


def filed_confirmation(ticket: TicketRecord, permalink: str | None) -> str:
    link = f" <{permalink}|See it in the support channel>." if permalink else " Its card will appear in the support channel shortly."
    return f"🎫 Thanks! Your ticket {ticket.number} was filed with {ticket.priority.label} priority.{link}"


def admin_new_ticket(ticket: TicketRecord, permalink: str | None) -> str:
    link = f" <{permalink}|Open the card>." if permalink else ""
    return f"New ticket {PRIORITY_ICON[ticket.priority]} {ticket.number} from {mention(ticket.reporter_id)}.{link}"


def not_saved(details: str) -> str:
    """The reporter's own words, returned when their ticket could not be stored."""
    return (
        "⚠️ Sorry, your ticket could not be saved: the ticket database is not answering. "
        "Here is what you wrote, so you can file it again with /new-ticket in a few minutes:\n"
        f"> {escaped_within(details, 2800)}"
    )


def apology() -> str:
    return (
        "😓 Sorry, something went wrong on our side and your request may not have gone through. "
        "The support admins have been told. Please try again in a few minutes."
    )


def error_report(doing: str, error_type: str, origin: str) -> str:
    """What failed and where, never the error's message: it may quote customer text."""
    return (
        f"🚨 Unexpected error while {escape(doing)}: `{escape(error_type)}` at `{escape(origin)}`\n"
        "_Repeats within the hour are not reported again; the logs have the details._"
    )


def dm_help() -> str:
    return (
        "👋 I'm Casedesk, the support desk. To ask for help, run */new-ticket* in any channel: "
        "a short form opens, and your ticket goes to the support team. You'll hear from me here "
        "when it is resolved or closed."
    )


def case_opened(ticket: TicketRecord, card_link: str | None) -> str:
    """The answer in the thread of the message that opened a case."""
    link = f" <{card_link}|Its card is in the support channel>." if card_link else ""
    return (
        f"🎫 Thanks, this is now case *{ticket.number}*.{link} "
        "Reply in this thread to add to it; an agent will answer here."
    )


def customer_case_opened(number: str, ack_text: str | None) -> str:
    """The answer in a customer channel (read by the other organisation): the channel's own
    words when it has them, and the case's number (all they may see of it)."""
    if ack_text:
        return f"{escaped_within(ack_text, 1000)} ({number})"
    return f"🎫 Thanks, this is now case *{number}*. Reply in this thread to add to it; we will answer here."


SOLVED = "customer_solved"
SOLVED_LABEL = "✅ This is solved"


def customer_ack_blocks(text: str, ticket_id: int) -> list[dict[str, Any]]:
    """The acknowledgment in a customer's thread with the one button meant for them: their
    case is solved (anything else they need, they write)."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": "customer",
            "elements": [
                {"type": "button", "action_id": SOLVED, "text": {"type": "plain_text", "text": SOLVED_LABEL}, "value": str(ticket_id)}
            ],
        },
    ]


def customer_solved_blocks(text: str, user: str) -> list[dict[str, Any]]:
    """The acknowledgment once its customer said the case is solved: the button gone."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text or " "}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"✅ {mention(user)} marked this solved. Write here if it comes back."}]},
    ]


def case_message_line(ticket: TicketRecord, message: MessageRecord, closed: bool) -> str:
    """A case message shown in the card's thread, told apart by where it came from."""
    if message.via == "slack" and message.role == "agent" and not message.internal:
        if message.slack_channel and message.slack_channel == ticket.origin_channel:  # written in the customer's thread
            return f"↩️ {mention(message.author_id)} replied to customer {mention(ticket.reporter_id)} in their thread:\n{_quoted(message.body)}"
        where = "in their thread" if ticket.origin_channel else "by DM"
        return f"📣 *Public reply* by {mention(message.author_id)}, sent to {mention(ticket.reporter_id)} {where}:\n{_quoted(message.body)}"
    if message.via != "email":
        return follow_up(ticket, message.author_id, message.body, closed)
    sender = escape(f"{message.author_name} <{message.author_id}>" if message.author_name else message.author_id)
    if message.role == "agent" and is_slack_user(message.author_id):
        head = f"✉️ {mention(message.author_id)} replied by email to {escape(ticket.reporter_id)}:"
    elif message.role == "agent":
        head = f"📧 Admin {sender} wrote by email on {ticket.number}:"
    elif message.role == "note":
        head = f"🤖 An automatic mail from {sender} was kept on {ticket.number} (not answered):"
    elif closed:
        head = f"📨 {sender} wrote by email on *closed* case {ticket.number}; reopen it to work on it again:"
    else:
        head = f"📧 {sender} wrote by email on {ticket.number}:"
    return f"{head}\n{_quoted(message.body)}"


def _quoted(body: str) -> str:
    return "\n".join(f"> {line}" for line in escaped_within(body, 2500).splitlines() or [""])


def follow_up(ticket: TicketRecord, author: str, body: str, closed: bool) -> str:
    """A customer's message shown in the card's thread, where the agents are."""
    head = (
        f"📨 {mention(author)} wrote on *closed* case {ticket.number}; reopen it to work on it again:"
        if closed
        else f"💬 {mention(author)} added to {ticket.number}:"
    )
    return f"{head}\n{_quoted(body)}"


def public_reply(ticket: TicketRecord, message: MessageRecord) -> str:
    """An agent's public reply, as the requester reads it (in their thread or DM)."""
    return f"💬 {mention(message.author_id)} replied on {ticket.number}:\n{escaped_within(message.body, 3500)}"


def reopened_by_reply(ticket: TicketRecord) -> str:
    return f"🔁 {ticket.number} is open again because of this reply; an agent will pick it up."


def escalation_alert(ticket: TicketRecord, reasons: str, card_link: str | None) -> str:
    """Why it escalated, and what the on-call person needs before clicking: what the case
    is about, how urgent it is now, who is waiting and whose it is."""
    link = f" <{card_link}|Open the card>." if card_link else ""
    return f"🚨 {ticket.number} escalated: {escape(reasons)}.{link}\n" + _case_facts(ticket)


def _case_facts(ticket: TicketRecord) -> str:
    """Title, priority, requester and assignee: what someone alerted needs before clicking."""
    owner = f"assigned to {mention(ticket.assignee_id)}" if ticket.assignee_id else "*unassigned*"
    about = (ticket.title or ticket.details).strip().split("\n", 1)[0] or "(no title)"
    requester = mention(ticket.reporter_id)
    if ticket.reporter_name and not is_slack_user(ticket.reporter_id):
        requester += f" ({escaped_within(ticket.reporter_name, 100)})"
    return (
        f"> *{escaped_within(about, 150)}*\n"
        f"> {PRIORITY_ICON[ticket.priority]} {ticket.priority.label} priority · requested by {requester} · {owner}"
    )


def sla_breach_alert(ticket: TicketRecord, rule: str, card_link: str | None) -> str:
    """An SLA target breached, in the alerting channel: ``rule`` names it."""
    link = f" <{card_link}|Open the card>." if card_link else ""
    return f"⏱ {ticket.number}: {escape(rule)} breached.{link}\n{_case_facts(ticket)}"


def sla_warning(ticket: TicketRecord, rule: str, card_link: str | None) -> str:
    """An SLA target 75 % used, to an assignee by DM."""
    link = f" <{card_link}|Open the card>." if card_link else ""
    return f"⏱ {ticket.number}: 75 % of the {escape(rule)} is used.{link}\n{_case_facts(ticket)}"


def _export_of(words: str) -> str:
    return f"of `{escape(words)}`" if words else "of all tickets"


def export_preparing(words: str) -> str:
    return f"⏳ Preparing your export {_export_of(words)}: the CSV file comes to you in a direct message from me shortly."


def export_ready(words: str, rows: int, cut: bool) -> str:
    if cut:
        return (
            f"📄 Your export {_export_of(words)}: the newest {rows:,} cases, the most one file holds. The list has more: "
            "narrow it with more words, or ask an admin for `python -m bot export`, which has no limit."
        )
    if rows == 0:
        return f"📄 Your export {_export_of(words)}: no case matches, so the file has the column names only."
    return f"📄 Your export {_export_of(words)}: {rows:,} case{'s' if rows != 1 else ''}, newest first."
