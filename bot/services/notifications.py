"""Notification mails: a ticket's creation and its resolution are mailed to its team's
recipients, the addresses named on the ticket and its assignees, with the admins' CC list
as Cc; the resolution also to the requester when they have an address.

The mail is owed in the transaction that makes the change, whoever makes it (the form, a
mail, a channel message, an agent's click, a rule): a hook on the desk's write sessions
sees the audit event a creation or a resolution writes ("created"; "status" to resolved)
and, just before that transaction commits, adds the mail to the mail outbox, decided from
the ticket as it then stands (its team, its assignees, after routing and automatic
assignment). A transaction that rolls back owes nothing.

Slack users (the assignees, a Slack requester) are kept as user IDs on the row: their
profile address is asked of Slack when the mail is sent (``bot.mail.notice_send``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.mail.addresses import split_addresses, unique
from bot.mail.compose import new_message_id, notice_body, notice_subject, requester_body
from bot.services.mail_outbox import queue_mail
from bot.services.records import format_number
from bot.services.status import Priority, Status
from bot.services.tickets import Clock, utcnow
from bot.views.text import is_slack_user
from db.models import DeskSetting, Team, Ticket, TicketAssignee, TicketEvent
from db.session import Database
from db.write_hooks import WriteHook

CC_SETTING = "notify_cc"  # the admins' CC list: a desk setting, comma-separated
SOURCES = {"slack_form": "the form", "email": "email", "slack": "a Slack message"}
PRIORITIES = {p.value for p in Priority}


@dataclass(frozen=True)
class NoticePolicy:
    from_addr: str  # SMTP is configured: notices are sent from this address
    own_addresses: frozenset[str]  # never mailed (the desk's own mailbox: loops)
    clock: Clock = utcnow


def _which(ev: TicketEvent) -> str | None:
    if ev.kind == "created":
        return "created"
    if ev.kind == "status" and ev.to_value == Status.RESOLVED.value:
        return "resolved"
    return None


def _owe_all(session: Session, events: list[TicketEvent], policy: NoticePolicy) -> None:
    for ev in events:
        owe_notice(session, ev, policy)


_HOOK: WriteHook[NoticePolicy] = WriteHook("notice", lambda obj: isinstance(obj, TicketEvent) and _which(obj) is not None, _owe_all)


def serve(db: Database, policy: NoticePolicy | None) -> None:
    """Owe notices for changes written through ``db`` (None: owe none, as without SMTP)."""
    _HOOK.serve(db, policy)


def owe_notice(session: Session, ev: TicketEvent, policy: NoticePolicy) -> None:
    """Queue the notice of ``ev`` (a creation or a resolution) in the session's transaction."""
    which = _which(ev)
    row = session.get(Ticket, ev.ticket_id)
    if which is None or row is None:
        return
    now = policy.clock()
    number = format_number(row.id)
    team = session.get(Team, row.team_id) if row.team_id is not None else None
    if team is None:
        team = session.scalars(select(Team).where(Team.is_default.is_(True))).first()
    assignees = list(session.scalars(
        select(TicketAssignee.user_id).where(TicketAssignee.ticket_id == row.id).order_by(TicketAssignee.added_at)
    ))
    users = unique([u for u in [row.assignee_id, *assignees] if u])
    requester_email: str | None = None
    if which == "resolved":
        if is_slack_user(row.reporter_id):
            users = unique([*users, row.reporter_id])
        elif "@" in row.reporter_id:
            requester_email = row.reporter_id
    cc_setting = session.get(DeskSetting, CC_SETTING)
    own = policy.own_addresses
    to = unique([*split_addresses(team.notify_emails if team else ""), *split_addresses(row.notify_emails)], without=own)
    cc = unique(split_addresses(cc_setting.value if cc_setting else ""), without=[*own, *to])
    if to or cc or users:
        headline = row.title or f"{row.issue_type} ({row.campaign})"
        fields = [
            ("Team", team.name if team else ""),
            ("Campaign", row.campaign),
            ("Issue type", row.issue_type),
            ("Priority", Priority(row.priority).label if row.priority in PRIORITIES else row.priority),
            ("Filed by", row.reporter_name or row.reporter_id if not is_slack_user(row.reporter_id) else ""),
            ("Filed through", SOURCES.get(row.source, row.source)),
        ]
        note = row.resolution_note if which == "resolved" else None
        queue_mail(
            session, now, ticket_id=row.id, message_id=new_message_id(policy.from_addr), kind="notice",
            to_addr=", ".join(to), cc_addrs=", ".join(cc), to_users=",".join(users),
            subject=notice_subject(number, which, headline), body=notice_body(number, which, fields, row.details, note),
            in_reply_to=None, references=None, automatic=False,
        )
    if requester_email and requester_email.lower() not in {a.lower() for a in [*to, *cc, *own]}:
        # The customer's own mail: To them alone (the desk's lists stay internal), threaded
        # to their case so that an answer reopens it.
        queue_mail(
            session, now, ticket_id=row.id, message_id=new_message_id(policy.from_addr), kind="requester",
            to_addr=requester_email, subject=notice_subject(number, which, row.title or "Your request"),
            body=requester_body(number, row.resolution_note), in_reply_to=None, references=None, automatic=False,
        )

